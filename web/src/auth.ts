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
