export { createRaptorFlowClient, type Credentials, type RaptorFlowClient, type RaptorFlowClientOptions } from "./client.js";
export { ProblemError, type Problem } from "./problem.js";
export { pages, type Page } from "./paging.js";
export type { components, operations, paths } from "./generated/schema.js";
