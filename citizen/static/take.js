/* 扫码取号 on a phone: tap an item, take its ticket (POST /api/v1/citizen/take) and go to the
 * ticket's own page. The phone's id is random and kept in localStorage: the hall's per-device
 * daily limit counts it (a private tab gets a new one; the per-address limit still holds).
 * One classic script in ES2017, like the ticket's page (no modules, no `?.`, no `??`: eslint
 * holds citizen/static/ to ES2017): an old Android browser runs it. */
(function () {
  "use strict";

  const DEVICE_KEY = "onestop.take.device";

  function randomId() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    let text = "";
    for (let i = 0; i < bytes.length; i += 1) text += ("0" + bytes[i].toString(16)).slice(-2);
    return text;
  }

  function deviceId() {
    let id = null;
    try {
      id = window.localStorage.getItem(DEVICE_KEY);
      if (!id || !/^[0-9a-f]{32}$/.test(id)) {
        id = randomId();
        window.localStorage.setItem(DEVICE_KEY, id);
      }
    } catch (e) {
      id = id || randomId(); // storage refused (private mode): this page's own id
    }
    return id;
  }

  function show(id, on) {
    document.getElementById(id).hidden = !on;
  }

  function refuse(message) {
    const box = document.getElementById("error");
    box.textContent = message;
    show("error", true);
    show("busy", false);
    box.scrollIntoView({ block: "center" });
  }

  async function take(poster, service, buttons) {
    show("error", false);
    show("busy", true);
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const r = await fetch("/api/v1/citizen/take", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ poster: poster, service: service, device: deviceId() }),
      });
      const data = await r.json().catch(() => ({}));
      if (!r.ok) {
        refuse((data.error && data.error.message) || ("HTTP " + r.status));
        return;
      }
      if (data.link) {
        window.location.assign(data.link);
        return;
      }
      document.getElementById("taken-number").textContent = data.number;
      show("busy", false);
      show("taken", true);
    } catch (e) {
      refuse(document.getElementById("busy").dataset.offline || String(e));
    } finally {
      buttons.forEach((b) => { b.disabled = b.getAttribute("aria-disabled") === "true"; });
    }
  }

  function start() {
    const data = document.getElementById("poster");
    if (!data) return; // the refusal page
    const poster = JSON.parse(data.textContent).poster;
    const buttons = Array.prototype.slice.call(document.querySelectorAll("button.take"));
    buttons.forEach((b) => {
      b.addEventListener("click", () => take(poster, b.dataset.service, buttons));
    });
    window.onestopTake = { ready: true };
  }

  start();
}());
