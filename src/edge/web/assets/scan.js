// scan.js — reading an item or seal label with the phone's camera, where the browser can
// (BarcodeDetector: Chrome on Android, Safari 17+ with the flag on, Edge). A USB or Bluetooth
// scanner needs nothing: it types into the scan box like a keyboard. Owns the camera stream and
// stopping it; must never trust what it reads — the text only opens a lookup, it names no act.

/** A label is an item, seal or incident number: what a code may hold before it is looked up. */
const LABEL = /^[A-Z0-9][A-Z0-9-]{1,63}$/;
/** Frames looked at per second: enough to feel immediate, little enough for an old phone. */
const FRAMES_PER_S = 6;

export async function startCamera(video, found) {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) throw new Error("unsupported");
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
        const text = String(code.rawValue || "").trim().toUpperCase();
        if (LABEL.test(text)) {
          stop();
          found(text);
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
