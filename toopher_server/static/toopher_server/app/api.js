// The device API (docs/authenticator-protocol.md): the device key, its id, and every
// call signed as §2-§3 say. The one module that signs and fetches.

import { loadDevice, saveDevice } from "./store.js";

const enc = new TextEncoder();
const EMPTY = new Uint8Array();
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const hex = (bytes) => [...new Uint8Array(bytes)]
  .map((b) => b.toString(16).padStart(2, "0")).join("");

/** An answer of the service that is not a success: `code` is its stable `error`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

/** The RFC 7638 thumbprint of a public P-256 JWK: the device id (§1). */
export async function thumbprint(jwk) {
  const canonical = `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
  return b64url(await crypto.subtle.digest("SHA-256", enc.encode(canonical)));
}

/** Canonical JSON bytes of a flat object (§6): members sorted by name, no white space. */
export function canonical(object) {
  const sorted = {};
  for (const name of Object.keys(object).sort()) sorted[name] = object[name];
  return enc.encode(JSON.stringify(sorted));
}

/** A new device: a non-extractable P-256 key pair, its public JWK and its id. */
export async function newDevice(label) {
  const keyPair = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"],
  );
  const full = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  const jwk = { crv: full.crv, kty: full.kty, x: full.x, y: full.y };
  return {
    privateKey: keyPair.privateKey,
    publicKey: keyPair.publicKey,
    jwk,
    deviceId: await thumbprint(jwk),
    label,
    enrolled: false,
    clockOffset: 0,
  };
}

export class DeviceApi {
  /** `base` is the app's URL (the API is `api/v1/` under it); `device` the stored record. */
  constructor(base, device) {
    this.base = base;
    this.device = device;
  }

  static async load(base) {
    const device = await loadDevice();
    return device ? new DeviceApi(base, device) : null;
  }

  url(path) {
    return new URL(`api/v1/${path}`, this.base);
  }

  async signatureHeader(method, url, body) {
    const digest = hex(await crypto.subtle.digest("SHA-256", body));
    const time = Math.floor(Date.now() / 1000) + (this.device.clockOffset || 0);
    const nonce = b64url(crypto.getRandomValues(new Uint8Array(16)));
    const base = ["toopher-device-signature-v1", method, url.pathname + url.search, digest,
      String(time), nonce, this.device.deviceId].join("\n");
    const sig = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" }, this.device.privateKey, enc.encode(base),
    );
    return `v=1, device=${this.device.deviceId}, time=${time}, nonce=${nonce}, sig=${b64url(sig)}`;
  }

  /** One signed call; `body` is bytes (sent exactly as digested) or undefined.
      Answers the JSON; throws ApiError (`offline` when the service cannot be reached). */
  async call(method, path, body) {
    const url = this.url(path);
    let answer = await this.send(method, url, body);
    const refusal = answer.status === 401 ? answer.data?.error : null;
    if (refusal === "stale" && Number.isInteger(answer.data.server_time)) {
      // Learn the clock offset, then retry once with a new nonce (§5).
      this.device.clockOffset = answer.data.server_time - Math.floor(Date.now() / 1000);
      await saveDevice(this.device);
      answer = await this.send(method, url, body);
    } else if (refusal === "replay") {
      answer = await this.send(method, url, body); // once, with a new nonce (§5)
    }
    if (answer.status >= 200 && answer.status < 300) return answer.data;
    const data = answer.data || {};
    throw new ApiError(answer.status, data.error || `http_${answer.status}`, data.message);
  }

  async send(method, url, body) {
    const bytes = body ?? EMPTY;
    const headers = { "Toopher-Device-Signature": await this.signatureHeader(method, url, bytes) };
    if (body) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method, headers, body: body ?? undefined, cache: "no-store", credentials: "omit",
      });
    } catch (error) {
      throw new ApiError(0, "offline", String(error));
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    return { status: response.status, data };
  }

  /** Enrol (§9.1), or enrol again with the same key (`unknown_device`). */
  async enrol(label) {
    this.device.label = label;
    const answer = await this.call("POST", "devices", canonical({ jwk: this.device.jwk, label }));
    this.device.enrolled = true;
    this.device.label = answer.label;
    await saveDevice(this.device);
    return answer;
  }

  get(path, query) {
    const search = query ? `?${new URLSearchParams(query)}` : "";
    return this.call("GET", `${path}${search}`);
  }

  post(path, object) {
    return this.call("POST", path, object === undefined ? undefined : canonical(object));
  }

  put(path, object) {
    return this.call("PUT", path, canonical(object));
  }

  patch(path, object) {
    return this.call("PATCH", path, canonical(object));
  }

  delete(path) {
    return this.call("DELETE", path);
  }

  /** The §6 decision body for a request as shown, and the call. */
  decide(request, decision, code = null) {
    return this.post(`authentication_requests/${encodeURIComponent(request.id)}/decision`, {
      action: request.action, code, decision, request_id: request.id, site: request.site,
      terminal: request.terminal, user: request.user,
    });
  }

  /** The §9.5 answer to a pairing as shown. */
  answerPairing(pairing, decision) {
    return this.post(`pairings/${encodeURIComponent(pairing.id)}/decision`, {
      decision, pairing_id: pairing.id, site: pairing.site, user: pairing.user,
    });
  }
}
