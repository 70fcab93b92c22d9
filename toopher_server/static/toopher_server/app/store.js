// What the app keeps on this device, in IndexedDB: the device (its non-extractable key
// pair, id, label, clock offset) and the OTP seeds of its pairings.

const DB_NAME = "toopher-authenticator";
const DB_VERSION = 1;

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("device");
      db.createObjectStore("seeds", { keyPath: "pairing_id" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let dbPromise = null;
const db = () => (dbPromise ??= openDb());

async function run(storeName, mode, work) {
  const database = await db();
  return new Promise((resolve, reject) => {
    const tx = database.transaction(storeName, mode);
    const request = work(tx.objectStore(storeName));
    tx.oncomplete = () => resolve(request?.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** The device record, or undefined before the first run. */
export const loadDevice = () => run("device", "readonly", (s) => s.get("this"));
/** Save the device record (CryptoKey objects are stored as they are). */
export const saveDevice = (device) => run("device", "readwrite", (s) => s.put(device, "this"));
/** Every OTP seed kept on this device. */
export const loadSeeds = () => run("seeds", "readonly", (s) => s.getAll());
/** Keep one pairing's OTP seed (the §9.6 answer). */
export const saveSeed = (seed) => run("seeds", "readwrite", (s) => s.put(seed));
/** Forget one pairing's seed (the pairing is gone). */
export const deleteSeed = (pairingId) => run("seeds", "readwrite", (s) => s.delete(pairingId));
