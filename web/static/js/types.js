// @ts-check
// Shared JSDoc types. This module exports nothing at run time.

/**
 * A JSON Schema (the subset the configurator reads).
 * @typedef {{
 *   type?: string|string[],
 *   title?: string,
 *   description?: string,
 *   enum?: unknown[],
 *   const?: unknown,
 *   default?: unknown,
 *   minimum?: number,
 *   maximum?: number,
 *   exclusiveMinimum?: number,
 *   exclusiveMaximum?: number,
 *   minLength?: number,
 *   maxLength?: number,
 *   minItems?: number,
 *   maxItems?: number,
 *   pattern?: string,
 *   format?: string,
 *   items?: JSONSchema,
 *   properties?: Record<string, JSONSchema>,
 *   required?: string[],
 *   uniqueItems?: boolean,
 *   readOnly?: boolean,
 *   deprecated?: boolean,
 * }} JSONSchema
 */

/**
 * One module of GET …/callflows/actions.
 * @typedef {{
 *   name: string,
 *   label: string,
 *   group: string,
 *   icon: string,
 *   description?: string,
 *   branches: string[],
 *   free_branches: boolean,
 *   terminal: boolean,
 *   schema: JSONSchema,
 * }} CatalogEntry
 */

/**
 * A block of the tree as the editor holds it: children in display order,
 * keys unique. `extra` keeps a node's other keys (round-tripped).
 * @typedef {{
 *   uid: string,
 *   module: string,
 *   data: Record<string, unknown>,
 *   children: Branch[],
 *   extra: Record<string, unknown>,
 * }} FlowNode
 */

/** @typedef {{key: string, node: FlowNode}} Branch */

/**
 * A call-flow document as the editor holds it; `extra` keeps the other
 * top-level keys (id, featurecode, flags …) so they survive a save.
 * @typedef {{
 *   name: string,
 *   numbers: string[],
 *   patterns: string[],
 *   flow: FlowNode|null,
 *   extra: Record<string, unknown>,
 * }} FlowDoc
 */

/**
 * A row of GET …/callflows.
 * @typedef {{id: string, name?: string, numbers: string[], patterns: string[], modules?: string[], revision?: string}} CallflowSummary
 */

/**
 * A call-trace line.
 * @typedef {{op: string, t_ms: number} & Record<string, unknown>} TraceEvent
 */

/**
 * A pivot debug exchange.
 * @typedef {{
 *   call_id: string, iteration: number, method: string, uri: string,
 *   req_headers?: Record<string, string>|null, req_body?: string,
 *   resp_status_code: number, resp_headers?: Record<string, string>|null, resp_body?: string,
 *   error?: string, created?: string, duration_ms?: number,
 * }} WebhookExchange
 */

export {};
