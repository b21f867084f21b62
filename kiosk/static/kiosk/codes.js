/* The kiosk's code screen: a green channel (绿色通道) pass or an appointment (预约签到) code,
 * scanned or typed, for a ticket on that channel. */
import { catalogue as C } from "/shared/static/catalogue.js";
import { $, bilingual } from "/shared/static/dom.js";
import { errorBox, issue } from "./issue.js";
import { goHome, show } from "./screens.js";
import { state } from "./state.js";

const CODE_MODES = {
  green: { zh: "绿色通道", en: "Green channel", label: "绿色通道服务卡号", labelEn: "Green channel pass no.",
    help: "请扫描或输入绿色通道服务卡上的号码", helpEn: "Scan or type the code on your green channel pass" },
  appointment: { zh: "预约签到", en: "Appointment check-in", label: "预约码", labelEn: "Appointment code",
    help: "请扫描或输入预约码（预约短信或预约凭证上）", helpEn: "Scan or type the code from your booking" },
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
  show("code-screen");
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
