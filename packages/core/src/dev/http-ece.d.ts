// Types for the parts of `http_ece` (RFC 8188) the dev push service uses; the package ships none.
declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';

  interface EceParams {
    version?: 'aes128gcm' | 'aesgcm' | 'aesgcm128';
    /** The receiver's key pair; the sender's public key is read from the aes128gcm header. */
    privateKey?: ECDH;
    dh?: string | Buffer;
    /** The subscription's 16-byte auth secret, base64url or raw. */
    authSecret?: string | Buffer;
    salt?: string | Buffer;
    rs?: number;
  }

  const ece: {
    decrypt(buffer: Buffer, params: EceParams): Buffer;
    encrypt(buffer: Buffer, params: EceParams): Buffer;
  };
  export default ece;
}
