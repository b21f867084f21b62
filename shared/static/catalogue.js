/* The hall's public catalogue as the page carries it (`<script type="application/json"
 * id="catalogue">`, written by the page's blueprint): centre, departments, items, windows. The
 * kiosk's lists its items, the other pages' key them by code; `service` finds one either way. */

/** The JSON the page carries in the script element `id`. */
export const readJson = (id) => JSON.parse(document.getElementById(id).textContent);

export const catalogue = readJson("catalogue");

const services = new Map(Array.isArray(catalogue.services)
  ? catalogue.services.map((s) => [s.code, s])
  : Object.entries(catalogue.services || {}));

export const service = (code) => services.get(code);

export const serviceName = (code) => (services.get(code) || { name: code }).name;

export const department = (code) => (catalogue.departments || []).find((d) => d.code === code)
  || { code, name: code, name_en: "" };
