export {
  createHeraldClient,
  type HeraldClient,
  type HeraldClientConfig,
  type HeraldSubscription,
  type IdentifyResult,
  type PermissionState,
} from './client.js';
export { HeraldError, type HeraldErrorCode } from './errors.js';
export { base64UrlToBytes, bytesToBase64Url, sameKey } from './keys.js';
export { detectSupport, type Support, type SupportEnv, type UnsupportedReason } from './support.js';
