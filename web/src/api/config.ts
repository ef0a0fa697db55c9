/** Runtime configuration, fetched at start from config.json beside index.html (written by run.sh or azd, never built in). */
export interface ConsoleConfig {
  /** Base URL of the API, without /api (e.g. http://127.0.0.1:7071). */
  apiUrl: string;
  /** Entra ID application (client) id of the console; absent locally. */
  entraClientId?: string;
  /** Entra authority, e.g. https://login.microsoftonline.com/organizations. */
  authority?: string;
  /** Scope to request for the API, e.g. api://<api-client-id>/user_impersonation. */
  apiScope?: string;
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`config.json could not be loaded (${response.status}).`);
  }
  const config = (await response.json()) as Partial<ConsoleConfig>;
  if (typeof config.apiUrl !== "string" || config.apiUrl.length === 0) {
    throw new Error("config.json has no apiUrl.");
  }
  return { ...config, apiUrl: config.apiUrl.replace(/\/+$/, "") } as ConsoleConfig;
}
