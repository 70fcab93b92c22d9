// RFC 6238 TOTP (HMAC-SHA-1 by default) with WebCrypto: the offline codes.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HASHES = { SHA1: "SHA-1", SHA256: "SHA-256", SHA512: "SHA-512" };

/** The bytes of an RFC 4648 base32 string (padding and case ignored). */
export function base32Decode(text) {
  const clean = text.replace(/=+$/, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of clean) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new Error("not base32");
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

/** The code of `seed` (the §9.6 answer) at Unix time `now`, and the seconds it has left. */
export async function totp(seed, now) {
  const period = seed.period || 30;
  const digits = seed.digits || 6;
  const counter = Math.floor(now / period);
  const message = new DataView(new ArrayBuffer(8));
  message.setUint32(0, Math.floor(counter / 2 ** 32));
  message.setUint32(4, counter >>> 0);
  const key = await crypto.subtle.importKey(
    "raw", base32Decode(seed.secret),
    { name: "HMAC", hash: HASHES[seed.algorithm || "SHA1"] || "SHA-1" }, false, ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message.buffer));
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16)
    | (mac[offset + 2] << 8) | mac[offset + 3];
  const code = String(binary % 10 ** digits).padStart(digits, "0");
  return { code, secondsLeft: period - (Math.floor(now) % period) };
}
