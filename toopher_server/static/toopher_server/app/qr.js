/**
 * Pairing by QR code in the authenticator app (docs/authenticator-protocol.md §9.11).
 *
 * A site shows a QR code whose text is this service's link
 * `<service>/r/pairings/<pairing id>`. The app reads it from the camera with
 * `scanQrCode`, takes the pairing id with `pairingIdFromQrText` (null for a code of any
 * other site or service: it must not pair), and claims the pairing with
 * `POST api/v1/pairings/<id>/claim`; the user then allows or denies it.
 *
 * Decoding: the browser's BarcodeDetector where it reads QR codes, otherwise the vendored
 * jsQR 1.4.0, imported on first use from `vendor/jsqr.js` beside this module (same
 * origin: allowed by the app's `script-src 'self'`, no build step, no inline script).
 *
 * This module is served as `<service>/app/qr.js`: the service is the folder above it.
 */

/** Frames examined per second while scanning (each costs a frame's decode). */
const FRAMES_PER_SECOND = 5;
/** Frames wider than this are scaled down before jsQR reads them (enough for a QR). */
const MAX_DECODE_WIDTH = 800;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JSQR_URL = new URL("vendor/jsqr.js", import.meta.url);
const SERVICE_URL = new URL("../", import.meta.url);

let decoderPromise = null;

/**
 * Which decoder `scanQrCode` uses in this browser: "BarcodeDetector" or "jsQR".
 * @returns {Promise<string>}
 */
export async function qrDecoderName() {
  return (await frameDecoder()).name;
}

/**
 * Read a QR code from the camera shown in `video` and resolve with its text.
 *
 * When `video` shows no stream yet, the rear camera is opened for the scan and closed
 * after it; a stream the caller attached is left running. Frames are examined a few
 * times a second until a code is found; aborting `signal` rejects with its reason
 * (an "AbortError" DOMException by default).
 *
 * @param {HTMLVideoElement} video
 * @param {{signal?: AbortSignal}} [options]
 * @returns {Promise<string>}
 */
export async function scanQrCode(video, { signal } = {}) {
  signal?.throwIfAborted();
  const decoder = await frameDecoder();
  let ownStream = null;
  if (!video.srcObject) {
    ownStream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment" },
      audio: false,
    });
    video.muted = true;
    video.playsInline = true;
    video.srcObject = ownStream;
  }
  try {
    if (video.paused) await video.play().catch(() => {});
    for (;;) {
      signal?.throwIfAborted();
      if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.videoWidth > 0) {
        const text = await decoder.decode(video);
        signal?.throwIfAborted();
        if (text) return text;
      }
      await pause(1000 / FRAMES_PER_SECOND, signal);
    }
  } finally {
    if (ownStream) {
      ownStream.getTracks().forEach((track) => track.stop());
      video.srcObject = null;
    }
  }
}

/**
 * The pairing id a scanned QR code names, or null.
 *
 * Accepted: this service's pairing link (`<service>/r/pairings/<uuid>`: the same
 * origin and mount point, nothing after the id), or a bare pairing id. Anything else,
 * a link of another site or service above all, is null: it must not pair.
 *
 * @param {string} text the code's text
 * @param {{service?: string|URL}} [options] the service's base URL (default: the folder
 *   above this module, `<service>/app/../`)
 * @returns {string|null} the pairing id, in lower case
 */
export function pairingIdFromQrText(text, { service = SERVICE_URL } = {}) {
  if (typeof text !== "string") return null;
  const trimmed = text.trim();
  if (UUID.test(trimmed)) return trimmed.toLowerCase();
  let link;
  let base;
  try {
    link = new URL(trimmed);
    base = new URL(service);
  } catch {
    return null;
  }
  if (link.origin !== base.origin || link.username || link.password) return null;
  if (link.search || link.hash) return null;
  const root = base.pathname.endsWith("/") ? base.pathname : `${base.pathname}/`;
  const prefix = `${root}r/pairings/`;
  if (!link.pathname.startsWith(prefix)) return null;
  const id = link.pathname.slice(prefix.length);
  return UUID.test(id) ? id.toLowerCase() : null;
}

// --- decoders -------------------------------------------------------------------------

function frameDecoder() {
  decoderPromise ??= chooseDecoder().catch((error) => {
    decoderPromise = null; // a failed load may be retried
    throw error;
  });
  return decoderPromise;
}

async function chooseDecoder() {
  if (await barcodeDetectorReadsQr()) {
    const detector = new globalThis.BarcodeDetector({ formats: ["qr_code"] });
    return {
      name: "BarcodeDetector",
      async decode(video) {
        const codes = await detector.detect(video);
        return codes.length ? codes[0].rawValue : null;
      },
    };
  }
  const jsQR = await loadJsQr();
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return {
    name: "jsQR",
    async decode(video) {
      const scale = Math.min(1, MAX_DECODE_WIDTH / video.videoWidth);
      const width = Math.max(1, Math.round(video.videoWidth * scale));
      const height = Math.max(1, Math.round(video.videoHeight * scale));
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      context.drawImage(video, 0, 0, width, height);
      const pixels = context.getImageData(0, 0, width, height);
      const code = jsQR(pixels.data, width, height, { inversionAttempts: "attemptBoth" });
      return code ? code.data : null;
    },
  };
}

async function barcodeDetectorReadsQr() {
  if (!("BarcodeDetector" in globalThis)) return false;
  try {
    const formats = await globalThis.BarcodeDetector.getSupportedFormats();
    return formats.includes("qr_code");
  } catch {
    return false;
  }
}

/** jsQR's bundle is UMD: imported as a module it defines `self.jsQR`. */
async function loadJsQr() {
  if (typeof globalThis.jsQR !== "function") await import(JSQR_URL.href);
  if (typeof globalThis.jsQR !== "function") {
    throw new Error("the QR decoder (vendor/jsqr.js) did not load");
  }
  return globalThis.jsQR;
}

function pause(milliseconds, signal) {
  return new Promise((resolve, reject) => {
    const done = () => {
      signal?.removeEventListener("abort", aborted);
      resolve();
    };
    const aborted = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(done, milliseconds);
    signal?.addEventListener("abort", aborted, { once: true });
  });
}
