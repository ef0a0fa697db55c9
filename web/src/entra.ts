// Entra ID sign-in (MSAL.js), loaded only when config.json names a client id, so local and dev
// use do not download it.
import { PublicClientApplication, InteractionRequiredAuthError, type AccountInfo } from "@azure/msal-browser";
import type { ConsoleConfig } from "./api/config";
import type { Auth } from "./auth";

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
