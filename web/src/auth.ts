import { PublicClientApplication, InteractionRequiredAuthError, type AccountInfo } from "@azure/msal-browser";
import type { ConsoleConfig } from "./api/config";
import { ProblemError, type Problem } from "./api/http";

/** How the console signs users in: Entra ID (MSAL) when configured, else the API's development issuer. */
export interface Auth {
  readonly kind: "entra" | "dev" | "none";
  user(): string | null;
  token(): Promise<string | null>;
  signOut(): Promise<void>;
}

const devTokenKey = "raptorflow.devToken";
const devUserKey = "raptorflow.devUser";

/**
 * The API has no discovery document for the development issuer; its token route exists only while
 * the issuer is on. An empty body is refused 400 validation.failed when it exists and 404 when not,
 * and mints nothing either way.
 */
export async function devIssuerIsOn(apiUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${apiUrl}/api/dev/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: "{}",
    });
    return response.status === 400;
  } catch {
    return false;
  }
}

export async function devSignIn(apiUrl: string, sub: string, email: string, name: string): Promise<void> {
  const response = await fetch(`${apiUrl}/api/dev/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ sub, email: email || undefined, name: name || undefined }),
  });
  if (!response.ok) {
    throw new ProblemError((await response.json()) as Problem);
  }
  const { accessToken } = (await response.json()) as { accessToken: string };
  sessionStorage.setItem(devTokenKey, accessToken);
  sessionStorage.setItem(devUserKey, name || email || sub);
}

export function devAuth(): Auth {
  return {
    kind: "dev",
    user: () => sessionStorage.getItem(devUserKey),
    token: async () => sessionStorage.getItem(devTokenKey),
    signOut: async () => {
      sessionStorage.removeItem(devTokenKey);
      sessionStorage.removeItem(devUserKey);
    },
  };
}

export async function entraAuth(config: ConsoleConfig): Promise<Auth> {
  const msal = new PublicClientApplication({
    auth: {
      clientId: config.entraClientId!,
      authority: config.authority ?? "https://login.microsoftonline.com/organizations",
      redirectUri: window.location.origin + window.location.pathname,
    },
    cache: { cacheLocation: "sessionStorage" },
  });
  await msal.initialize();
  const result = await msal.handleRedirectPromise();
  let account: AccountInfo | null = result?.account ?? msal.getAllAccounts()[0] ?? null;
  const scopes = config.apiScope ? [config.apiScope] : [];
  return {
    kind: "entra",
    user: () => account?.name ?? account?.username ?? null,
    token: async () => {
      if (!account) {
        await msal.loginRedirect({ scopes });
        return null;
      }
      try {
        const silent = await msal.acquireTokenSilent({ scopes, account });
        account = silent.account;
        return silent.accessToken;
      } catch (error) {
        if (error instanceof InteractionRequiredAuthError) {
          await msal.acquireTokenRedirect({ scopes, account });
        }
        throw error;
      }
    },
    signOut: async () => {
      await msal.logoutRedirect({ account });
    },
  };
}

export async function entraSignIn(config: ConsoleConfig): Promise<void> {
  const msal = new PublicClientApplication({
    auth: { clientId: config.entraClientId!, authority: config.authority, redirectUri: window.location.origin + window.location.pathname },
    cache: { cacheLocation: "sessionStorage" },
  });
  await msal.initialize();
  await msal.loginRedirect({ scopes: config.apiScope ? [config.apiScope] : [] });
}
