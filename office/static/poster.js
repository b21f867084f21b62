/* The 扫码取号 poster (A4): after sign-in, today's QR code (an SVG made by the hub), its URL and
 * the hall day it works on, from GET /api/v1/poster; 打印 prints the sheet alone. The code
 * changes at the hall's midnight: print a new poster each morning. */
import { $, say } from "/shared/static/dom.js";
import { StaffSession } from "/shared/static/staff.js";
import { joined } from "/shared/static/i18n.js";

const staff = new StaffSession({
  key: "onestop.office.session",
  wrongRole: joined("office.admin_supervisor_account_needed"),
  parts: ["sheet", "who", "print", "signout"],
  signedIn: load,
});

async function load() {
  try {
    const p = await staff.api("GET", "/poster");
    const svg = new DOMParser().parseFromString(p.svg, "image/svg+xml").documentElement;
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    $("qr").replaceChildren(document.importNode(svg, true));
    $("day").textContent = p.day;
    $("url").textContent = p.url;
  } catch (err) {
    say("error", err.message);
  }
}

$("print").addEventListener("click", () => window.print());
staff.resume();
