// scan.js — reading an item or seal label: with the camera, where the browser has
// BarcodeDetector (Chrome on Android) or else with the vendored ZXing reader (Firefox, iOS
// Safari, desktop Chrome on Linux and Windows), or from a photo of the label. A USB or Bluetooth
// scanner needs nothing: it types into the scan box like a keyboard. Owns the camera stream and
// stopping it; must never trust what it reads — the text only opens a lookup, it names no act.

/** A label is an item, seal or incident number: what a code may hold before it is looked up. */
const LABEL = /^[A-Z0-9][A-Z0-9-]{1,63}$/;
/** Frames looked at per second with BarcodeDetector: immediate enough, light on an old phone. */
const FRAMES_PER_S = 6;
/** ZXing 0.23.0 (Apache-2.0, vendor/zxing-LICENSE), loaded only when it is needed. */
const ZXING_SRC = "/app/zxing-0.23.0.min.js";

let zxing = null;

function loadZxing() {
  if (!zxing) {
    zxing = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = ZXING_SRC;
      script.onload = () => (window.ZXing ? resolve(window.ZXing) : reject(new Error("ZXing")));
      script.onerror = () => reject(new Error("ZXing"));
      document.head.append(script);
    });
  }
  return zxing;
}

/** The text of a code if it is shaped like a label; anything else is ignored. */
export function asLabel(text) {
  const t = String(text || "").trim().toUpperCase();
  return LABEL.test(t) ? t : null;
}

export async function startCamera(video, found) {
  if (!navigator.mediaDevices) throw new Error("unsupported");
  if ("BarcodeDetector" in window) return startDetector(video, found);
  const ZXing = await loadZxing();
  const reader = new ZXing.BrowserMultiFormatReader();
  video.hidden = false;
  await reader.decodeFromVideoDevice(undefined, video, (result) => {
    const label = result && asLabel(result.getText());
    if (label) {
      reader.reset();
      video.hidden = true;
      found(label);
    }
  });
  return () => ((video.hidden = true), reader.reset());
}

async function startDetector(video, found) {
  const detector = new window.BarcodeDetector({ formats: ["qr_code", "code_128"] });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const stop = () => {
    stream.getTracks().forEach((track) => track.stop());
    video.hidden = true;
  };
  const tick = async () => {
    if (video.hidden) return;
    try {
      for (const code of await detector.detect(video)) {
        const label = asLabel(code.rawValue);
        if (label) {
          stop();
          found(label);
          return;
        }
      }
    } catch {
      // A frame that cannot be read is skipped; the next one may be sharper.
    }
    setTimeout(tick, 1000 / FRAMES_PER_S);
  };
  tick();
  return stop;
}

/** The label in a photo of it (a file chosen or taken with the phone's camera app), or null. */
export async function readPhoto(file) {
  const url = URL.createObjectURL(file);
  try {
    if ("BarcodeDetector" in window) {
      const image = await createImageBitmap(file);
      const codes = await new window.BarcodeDetector({ formats: ["qr_code", "code_128"] }).detect(image);
      return codes.map((c) => asLabel(c.rawValue)).find(Boolean) || null;
    }
    const ZXing = await loadZxing();
    const result = await new ZXing.BrowserMultiFormatReader().decodeFromImageUrl(url).catch(() => null);
    return result ? asLabel(result.getText()) : null;
  } finally {
    URL.revokeObjectURL(url);
  }
}
