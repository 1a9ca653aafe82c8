export { basicAuth, type ChallengingAuthorize } from './server/basic-auth.js';
export { CSRF_COOKIE, CSRF_HEADER } from './server/csrf.js';
export {
  API_SEGMENT,
  CONTENT_SECURITY_POLICY,
  type DashboardHandler,
  type DashboardOptions,
  heraldDashboard,
} from './server/dashboard.js';
