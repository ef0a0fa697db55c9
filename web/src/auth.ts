import { createRaptorFlowClient } from "@raptorflow/client";

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
    const { data } = await createRaptorFlowClient({ baseUrl: apiUrl }).GET("/api/dev/status");
    return data?.devIssuer === true;
  } catch {
    return false;
  }
}

export async function devSignIn(apiUrl: string, sub: string, email: string, name: string): Promise<void> {
  // A refusal is thrown by the client as a ProblemError, shown by the sign-in form.
  const { data } = await createRaptorFlowClient({ baseUrl: apiUrl }).POST("/api/dev/token", {
    body: { sub, email: email || null, name: name || null },
  });
  sessionStorage.setItem(devTokenKey, data!.accessToken);
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
