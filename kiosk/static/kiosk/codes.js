/* The kiosk's code screen: a green channel (绿色通道) pass or an appointment (预约签到) code,
 * scanned or typed, for a ticket on that channel. */
import { catalogue as C } from "/shared/static/catalogue.js";
import { $, bilingual } from "/shared/static/dom.js";
import { showMine } from "./identity.js";
import { errorBox, issue } from "./issue.js";
import { goHome, show } from "./screens.js";
import { state } from "./state.js";
import { t, t2 } from "/shared/static/i18n.js";

const CODE_MODES = {
  green: { zh: t("kiosk.code.green"), en: t2("kiosk.code.green"), label: t("kiosk.code.green_label"),
    labelEn: t2("kiosk.code.green_label"), help: t("kiosk.code.green_help"), helpEn: t2("kiosk.code.green_help") },
  appointment: { zh: t("kiosk.code.appointment"), en: t2("kiosk.code.appointment"),
    label: t("kiosk.code.appointment_label"), labelEn: t2("kiosk.code.appointment_label"),
    help: t("kiosk.code.appointment_help"), helpEn: t2("kiosk.code.appointment_help") },
};

function openCode(mode) {
  const m = CODE_MODES[mode];
  state.codeMode = mode;
  $("code-title-zh").textContent = m.zh;
  $("code-title-en").textContent = m.en;
  bilingual($("code-label"), m.label, m.labelEn);
  bilingual($("code-help"), m.help, m.helpEn);
  $("code-input").value = "";
  $("code-error").hidden = true;
  $("code-id-hint").hidden = mode !== "appointment"; // a swipe lists today's appointments
  show("code-screen");
  if (mode === "appointment") showMine("appointments"); // a card read already: its bookings
  else $("id-appointments").hidden = true;
  $("code-input").focus({ preventScroll: true });
}

export function submitCode() {
  const code = $("code-input").value.trim();
  if (!code) {
    errorBox($("code-error"), { code: "code_required" });
    return;
  }
  issue({ channel: state.codeMode, code }, "code");
}

export function wireCodes() {
  $("go-green").hidden = !C.green_channel;
  $("go-green").addEventListener("click", () => openCode("green"));
  $("go-appointment").addEventListener("click", () => openCode("appointment"));
  $("code-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitCode();
  });
  $("code-back").addEventListener("click", goHome);
  $("code-input").addEventListener("input", () => { $("code-error").hidden = true; });
}
