/* The clerk panel's window actions: F1-F7 and their buttons, calling a number, the outcome of a
 * finish, the transfer dialog. Each is an acked event on the /caller socket whose answer is the
 * window as it now is. */
import { $, say } from "/shared/static/dom.js";
import { loadJoint } from "./slips.js";
import { joined, spaced } from "/shared/static/i18n.js";

const ACK_MS = 8000;

/**
 * Wire the actions of the panel signed in with `staff`: `panel.st` is the window's state,
 * `panel.applyWindow(w)` shows a window the hub answered with.
 */
export function wireActions(staff, panel) {
  function act(action, args) {
    say("error", "");
    say("info", "");  // a note about the last action must not read as one about this one
    const socket = staff.socket;
    if (!socket || !socket.connected) {
      say("error", joined("caller.not_connected_hub"));
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      socket.timeout(ACK_MS).emit(action, args || {}, (err, ack) => {
        if (err) {
          say("error", joined("caller.hub_did_not_answer"));
          resolve(null);
        } else if (!ack || !ack.ok) {
          say("error", spaced("caller.action_refused", { message: (ack && ack.error && ack.error.message) || "?" }));
          resolve(null);
        } else {
          panel.applyWindow(ack.result);
          resolve(ack.result);
        }
      });
    });
  }

  async function finish() {
    const outcome = $("outcome").value;
    const args = { outcome };
    if (outcome === "joint") args.departments = [...$("departments").selectedOptions].map((o) => o.value);
    if (outcome === "report") args.authority = $("authority").value;
    if (outcome === "returned") args.reason = $("return-reason").value;
    const result = await act("finish", args);
    if (!result) return;
    if (outcome === "joint") loadJoint(staff);
    const done = (result.events || []).find((e) => e.type === "ticket.finished");
    const slip = done && done.data.outcome && done.data.outcome.slip;
    const box = $("slip-result");
    box.hidden = false;
    if (slip) {
      box.textContent = spaced("caller.promised_date", { slip, promised_date: done.data.outcome.promised_date });
      $("slip-number").value = slip;
    } else if (outcome === "returned") {
      box.textContent = joined("caller.return_sent_approval");
    } else {
      box.textContent = joined("caller.finished");
    }
  }

  const ACTIONS = {
    F1: () => act("call-next").then((r) => r && ($("slip-result").hidden = $("slip-printed").hidden = true)),
    F2: () => act("recall"),
    F3: () => act("skip"),
    F4: finish,
    F5: () => (panel.st.status === "paused" ? act("resume") : act("pause", { reason: $("pause-reason").value })),
    F6: () => {
      $("transfer-reason").value = "";
      $("transfer-dialog").showModal();
    },
    F7: () => act("request-rating").then((r) => r && say("info", joined("caller.rating_requested"))),
  };
  const BUTTONS = { "btn-call-next": "F1", "btn-recall": "F2", "btn-skip": "F3", "btn-finish": "F4",
                    "btn-pause": "F5", "btn-transfer": "F6", "btn-rating": "F7" };
  for (const [id, key] of Object.entries(BUTTONS)) $(id).addEventListener("click", ACTIONS[key]);
  document.addEventListener("keydown", (ev) => {
    if (!ACTIONS[ev.key] || !staff.session || $("panel").hidden) return;
    ev.preventDefault(); // F5 would reload, F1 open help
    if ($("transfer-dialog").open) return;
    ACTIONS[ev.key]();
  });

  $("call-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const number = $("call-number").value.trim().toUpperCase();
    if (number) act("call", { number }).then((r) => r && ($("call-number").value = ""));
  });

  $("transfer-dialog").addEventListener("close", () => {
    if ($("transfer-dialog").returnValue !== "ok") return;
    const args = { reason: $("transfer-reason").value };
    if ($("transfer-window").value) args.window = Number($("transfer-window").value);
    else if ($("transfer-service").value) args.service = $("transfer-service").value;
    act("transfer", args);
  });
}
