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

/** The API answers GET /api/dev/status { devIssuer: true } only while its development issuer is on (404 otherwise). */
export async function devIssuerIsOn(apiUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${apiUrl}/api/dev/status`, { headers: { Accept: "application/json" } });
    return response.ok && ((await response.json()) as { devIssuer?: boolean }).devIssuer === true;
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
