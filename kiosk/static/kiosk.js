/* The ticket kiosk (取号机): one page, six screens shown one at a time — home (items as tiles
 * with live waiting counts), an item (six disclosures, materials, 取号), the ticket, the green
 * channel / appointment code, commitment-slip lookup and the complaint form — over the /kiosk
 * Socket.IO namespace with the kiosk's token (paired once, kept in the page's storage). Idle: back home with
 * nothing personal left. Each part is a module of kiosk/; this one starts them. */
import { catalogue as C } from "/shared/static/catalogue.js";
import { $ } from "/shared/static/dom.js";
import { hallFormat, runClock } from "/shared/static/halltime.js";
import { wireCodes } from "./kiosk/codes.js";
import { buildComplaintForm, clearComplaint, wireComplaints } from "./kiosk/complaints.js";
import { connectKiosk, setConnected, setNotice } from "./kiosk/connection.js";
import { wireIdentity } from "./kiosk/identity.js";
import { idleReset, watchIdle } from "./kiosk/idle.js";
import { wireIssue } from "./kiosk/issue.js";
import { setPrintMaterials, wireItem } from "./kiosk/item.js";
import { goHome } from "./kiosk/screens.js";
import { wireSlips } from "./kiosk/slips.js";
import { state } from "./kiosk/state.js";
import { wireTicket } from "./kiosk/ticket.js";
import { buildTiles, filterTiles, renderTileStates, wireTiles } from "./kiosk/tiles.js";
import { setElderly, setEnglish, wireVoice } from "./kiosk/voice.js";

wireVoice();
wireTiles();
wireItem();
wireIssue();
wireTicket();
wireCodes();
wireSlips();
wireComplaints();
wireIdentity();
watchIdle();

buildTiles();
buildComplaintForm();
setEnglish(false);
setElderly(false);
setPrintMaterials(true);
setNotice(C.center);
clearComplaint();
filterTiles();
renderTileStates();
// The clock in the header; a new minute may open or close an item.
runClock(hallFormat({ hour: "2-digit", minute: "2-digit", hour12: false }), renderTileStates);
goHome();
setConnected(false);
$("reconnecting").hidden = true; // not "reconnecting" before the first connection
connectKiosk();

// Read-only view for tests and the front desk's diagnostics.
window.kiosk = {
  get state() {
    return JSON.parse(JSON.stringify({ ...state, lastTouch: undefined }));
  },
  idleReset,
};
