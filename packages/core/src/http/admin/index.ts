export {
  type AdminHttpOptions,
  type AuditEntry,
  adminRoutes,
  type HeraldAdminHandler,
  heraldAdminHttp,
} from './admin-http.js';
export {
  type AdminOperation,
  type AuthDecision,
  type Authorize,
  type AuthorizeInput,
  bearerToken,
  checkedDecision,
} from './auth.js';
export { ADMIN_HTTP_ERRORS, AdminHttpError, type AdminHttpErrorCode } from './errors.js';
export { buildOpenApi } from './openapi.js';
export type { AdminRoute, RouteDefinition } from './route-table.js';
