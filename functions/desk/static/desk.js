/* The order desk: one page, hash routes (#/orders, #/order/ID, #/slip/ID, #/sales, #/staff, #/login).
   Every read and every change is a call to the /api/v1 staff endpoints on this origin with the staff cookies
   (host-only, SameSite=Strict, HttpOnly: this script never sees them). The API decides what is allowed — roles,
   the order state machine, the super-admin protections — and the desk shows its answers in words. The actions
   offered on an order are the ones the API lists in the order's `next`. */
"use strict";

(() => {
  const {h, call, money, when, notice} = Pages;
  const BASE = "/api/v1/staff/dashboard/inventory";
  const STATUSES = ["awaiting_payment", "payment_review", "paid", "packed", "shipped", "delivered", "completed",
                    "cancelled", "refunded", "partially_refunded"];
  const LABEL = {awaiting_payment: "awaiting payment", payment_review: "payment review",
                 partially_refunded: "partially refunded"};
  const ACTIONS = {
    packed: {label: "Mark packed", confirm: "Mark the order packed? This cannot be undone."},
    shipped: {label: "Ship", confirm: "Mark the order shipped with this tracking number? The customer is told by mail."},
    delivered: {label: "Mark delivered", confirm: "Mark the order delivered? This cannot be undone."},
    completed: {label: "Mark completed", confirm: "Mark the order completed? This cannot be undone."},
    cancelled: {label: "Cancel order", confirm: "Cancel the order? Its stock goes back on the shelf and the customer is told. This cannot be undone.", danger: true},
    refunded: {label: "Mark refunded", confirm: "Mark the order refunded? Goods still in the warehouse go back into stock; the money itself is refunded in the Midtrans dashboard. This cannot be undone.", danger: true},
  };
  const PAGE_SIZE = 20;
  const main = document.getElementById("main");
  let me = null;

  const statusText = (s) => LABEL[s] || s || "";
  const badge = (s) => h("span", {class: `badge badge-${s}`, text: statusText(s)});

  // ---- the session: a 401 is answered by one refresh (the v1 UIs do the same), then the login form

  async function api(method, path, body) {
    let r = await call(method, path, body);
    if (r.status === 401) {
      const refreshed = await call("GET", "/api/v1/staff/auth/refresh");
      if (refreshed.ok) r = await call(method, path, body);
    }
    if (r.status === 401) {
      me = null;
      showLogin(r.data.error);
      throw new Error("logged out");
    }
    return r;
  }

  async function whoAmI() {
    try {
      const r = await api("GET", "/api/v1/staff/auth/me");
      if (!r.ok) return null;
      return r.data;
    } catch (err) {
      return null;
    }
  }

  function renderBar() {
    const bar = document.getElementById("bar");
    bar.hidden = !me;
    if (!me) return;
    document.getElementById("who").textContent = me.username;
    document.getElementById("nav-staff").hidden = !me.sys_admin;
    const segment = (location.hash.split("/")[1] || "orders").split("?")[0];
    const current = segment === "order" || segment === "slip" ? "orders" : segment;
    for (const a of bar.querySelectorAll("nav a")) {
      if (a.dataset.nav === current) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  }

  function show(...children) {
    main.replaceChildren(...children);
    renderBar();
  }

  function showLogin(message) {
    renderBar();
    const err = h("div", {"aria-live": "polite"}, message && message !== "not logged in or session expired"
      ? notice("info", message) : null);
    const form = h("form", {class: "card stack narrow", id: "login-form", novalidate: true},
      h("label", {for: "username", text: "Username"}),
      h("input", {id: "username", name: "username", autocomplete: "username", required: true, maxlength: 32}),
      h("label", {for: "login-password", text: "Password"}),
      h("input", {id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true}),
      h("div", {class: "actions"}, h("button", {type: "submit", id: "login-submit", text: "Log in"})));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      const r = await call("POST", "/api/v1/staff/auth/login",
                           {username: form.username.value.trim(), password: form.password.value});
      button.disabled = false;
      if (!r.ok) {
        err.replaceChildren(notice("error", r.data.error));
        return;
      }
      // what the v1 staff dashboard keeps after its own login: its pages on this host then see the member too
      try {
        for (const key of ["username", "fin_user", "inv_user", "sys_admin"]) localStorage.setItem(key, String(r.data[key]));
      } catch (e) { /* storage blocked: the desk itself does not need it */ }
      me = await whoAmI();
      if (!location.hash || location.hash === "#/login") location.hash = "#/orders";
      else route();
    });
    main.replaceChildren(h("h1", {text: "Staff login"}), err, form);
    form.username.focus();
  }

  function confirmAction(text) {
    const dialog = document.getElementById("confirm");
    document.getElementById("confirm-text").textContent = text;
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), {once: true});
      dialog.returnValue = "";
      dialog.showModal();
      document.getElementById("confirm-no").focus();
    });
  }

  // ---- orders

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
    return q.toString();
  }

  async function orders(params) {
    const status = params.get("status") || "";
    const search = params.get("q") || "";
    const page = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
    const filters = {status, q: search};
    const form = h("form", {class: "inline card no-print", role: "search", id: "order-filter"},
      h("div", {class: "field"}, h("label", {for: "f-status", text: "Status"}),
        h("select", {id: "f-status", name: "status"}, h("option", {value: "", text: "every status"}),
          STATUSES.map((s) => h("option", {value: s, selected: s === status, text: statusText(s)})))),
      h("div", {class: "field"}, h("label", {for: "f-q", text: "Order number or customer email"}),
        h("input", {id: "f-q", name: "q", type: "search", value: search, maxlength: 100})),
      h("button", {type: "submit", text: "Search"}));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      location.hash = "#/orders?" + query({status: form.status.value, q: form.q.value.trim()});
    });
    const holder = h("div", {"aria-live": "polite"}, h("p", {class: "muted", text: "Loading…"}));
    show(h("h1", {text: "Orders"}), form, holder);

    const [list, totals] = await Promise.all([
      api("GET", `${BASE}/order?` + query({...filters, page, page_size: PAGE_SIZE})),
      api("GET", `${BASE}/order-totals?` + query(filters))]);
    if (!list.ok) return holder.replaceChildren(notice("error", list.data.error));
    const count = totals.ok ? totals.data.count : null;
    const pages = count === null ? null : Math.max(1, Math.ceil(count / PAGE_SIZE));
    const summary = totals.ok
      ? h("p", {id: "order-totals"}, h("strong", {text: `${count} order${count === 1 ? "" : "s"}`}),
          `, ${money(totals.data.gross_amount)} together`)
      : notice("error", totals.data.error);
    if (!list.data.length) return holder.replaceChildren(summary, h("p", {text: "No order matches."}));
    const rows = list.data.map((o) => h("tr", {"data-order": o.id},
      h("td", {"data-label": "Order"}, h("a", {href: `#/order/${o.id}`, text: `#${o.id}`})),
      h("td", {"data-label": "Date", text: o.created_at}),
      h("td", {"data-label": "Customer"}, h("span", {}, o.customer, h("br"), h("span", {class: "muted", text: o.customer_email}))),
      h("td", {"data-label": "Items", text: o.item_count > 1 ? `${o.product_name} +${o.item_count - 1} more` : o.product_name}),
      h("td", {"data-label": "Total", class: "num", text: money(o.gross_amount)}),
      h("td", {"data-label": "Payment", text: o.transaction_status ? `${o.transaction_status}${o.payment_type ? " · " + o.payment_type : ""}` : "not paid"}),
      h("td", {"data-label": "Status"}, badge(o.status))));
    const table = h("div", {class: "table-wrap"}, h("table", {class: "stack", id: "order-table"},
      h("thead", {}, h("tr", {}, ["Order", "Date", "Customer", "Items"].map((t) => h("th", {scope: "col", text: t})),
        h("th", {scope: "col", class: "num", text: "Total"}), h("th", {scope: "col", text: "Payment (Midtrans)"}),
        h("th", {scope: "col", text: "Status"}))),
      h("tbody", {}, rows)));
    const pager = h("nav", {class: "pager no-print", "aria-label": "Pages"},
      page > 1 ? h("a", {href: "#/orders?" + query({...filters, page: page - 1}), rel: "prev", text: "← Newer"}) : null,
      h("span", {text: pages ? `Page ${page} of ${pages}` : `Page ${page}`}),
      (pages ? page < pages : list.data.length === PAGE_SIZE)
        ? h("a", {href: "#/orders?" + query({...filters, page: page + 1}), rel: "next", text: "Older →"}) : null);
    holder.replaceChildren(summary, table, pager);
  }

  function facts(pairs) {
    return h("dl", {class: "facts"}, pairs.filter(Boolean).map(([k, v]) => [h("dt", {text: k}), h("dd", {}, v)]));
  }

  function actor(entry) {
    if (entry.actor === "staff") return entry.actor_name ? `staff ${entry.actor_name}` : `staff #${entry.actor_id}`;
    if (entry.actor === "midtrans") return "Midtrans (payment)";
    if (entry.actor === "customer") return "the customer";
    return entry.actor || "";
  }

  async function order(id, message) {
    const r = await api("GET", `${BASE}/order?id=${encodeURIComponent(id)}`);
    if (!r.ok) return show(h("h1", {text: `Order #${id}`}), notice("error", r.data.error),
                           h("p", {}, h("a", {href: "#/orders", text: "Back to the orders"})));
    const o = r.data;
    const feedback = h("div", {id: "feedback", "aria-live": "polite"}, message || null);
    const actions = h("section", {class: "card no-print", "aria-labelledby": "actions-title"},
      h("h2", {id: "actions-title", text: "What can be done now"}), actionControls(o, feedback));
    const lines = h("div", {class: "table-wrap"}, h("table", {class: "stack"},
      h("thead", {}, h("tr", {}, h("th", {scope: "col", text: "Product"}), h("th", {scope: "col", class: "num", text: "Price"}),
        h("th", {scope: "col", class: "num", text: "Qty"}), h("th", {scope: "col", class: "num", text: "Amount"}))),
      h("tbody", {}, o.item_list.map((i) => h("tr", {},
        h("td", {"data-label": "Product", text: i.name}), h("td", {"data-label": "Price", class: "num", text: money(i.price)}),
        h("td", {"data-label": "Qty", class: "num", text: i.quantity}),
        h("td", {"data-label": "Amount", class: "num", text: money(i.price * i.quantity)})))),
      h("tfoot", {},
        h("tr", {}, h("td", {colspan: 3, text: "Items"}), h("td", {class: "num", text: money(o.item_cost)})),
        h("tr", {}, h("td", {colspan: 3, text: "Shipping"}), h("td", {class: "num", text: money(o.shipping_cost)})),
        h("tr", {}, h("td", {colspan: 3, text: "Total"}), h("td", {class: "num", id: "order-total", text: money(o.total_cost)})))));
    const a = o.address_detail;
    const history = h("div", {class: "table-wrap"}, h("table", {class: "stack", id: "history"},
      h("thead", {}, h("tr", {}, ["When", "From", "To", "By", "Note"].map((t) => h("th", {scope: "col", text: t})))),
      h("tbody", {}, o.status_history.map((e) => h("tr", {},
        h("td", {"data-label": "When", text: when(e.at)}), h("td", {"data-label": "From"}, e.from ? badge(e.from) : "—"),
        h("td", {"data-label": "To"}, badge(e.to)), h("td", {"data-label": "By", text: actor(e)}),
        h("td", {"data-label": "Note", text: e.note}))))));
    show(
      h("p", {class: "no-print"}, h("a", {href: "#/orders", text: "← Orders"}), " · ",
        h("a", {href: `#/slip/${o.id}`, id: "slip-link", text: "Packing slip"})),
      h("h1", {}, `Order #${o.id} `, badge(o.status)),
      feedback, actions,
      h("div", {class: "grid"},
        h("section", {class: "card"}, h("h2", {text: "Customer and shipping"}), facts([
          ["Customer", o.customer], ["Email", o.customer_email], ["Ordered", when(o.created_at)],
          ["Ship to", h("span", {}, a.recipient_name, h("br"), a.phone_number, h("br"), a.full_address, h("br"),
                                 a.shipping_area, " ", a.postal_code)],
          a.note ? ["Note", a.note] : null,
          ["Courier", o.courier], ["Tracking", h("span", {id: "tracking", text: o.tracking_code || "—"})]])),
        h("section", {class: "card"}, h("h2", {text: "Payment (as Midtrans confirmed it)"}), facts([
          ["Midtrans status", h("span", {id: "payment-state", text: o.transaction_status || "no payment yet"})],
          ["Method", o.payment_type || "—"], o.status_description ? ["Detail", o.status_description] : null,
          ["Paid at", o.paid_at ? when(o.paid_at) : "—"], ["Refund due", o.need_refund ? "yes" : "no"]]))),
      h("section", {class: "card"}, h("h2", {text: "Lines"}), lines),
      h("section", {class: "card"}, h("h2", {text: "History"}), history));
  }

  function actionControls(o, feedback) {
    if (!o.next.length) return h("p", {id: "no-actions", text: `Nothing more: an order that is ${statusText(o.status)} does not move on.`});
    const box = h("div", {class: "actions", id: "order-actions"});
    for (const target of o.next) {
      const spec = ACTIONS[target];
      if (!spec) continue;
      if (target === "shipped") {
        const form = h("form", {class: "inline", id: "ship-form"},
          h("div", {class: "field"}, h("label", {for: "tracking-code", text: "Tracking number"}),
            h("input", {id: "tracking-code", name: "tracking_code", required: true, maxlength: 64, autocomplete: "off"})),
          h("button", {type: "submit", "data-action": target, text: spec.label}));
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          const code = form.tracking_code.value.trim();
          if (!code) {
            feedback.replaceChildren(notice("error", "Enter the courier's tracking number to ship the order."));
            form.tracking_code.focus();
            return;
          }
          move(o, target, {tracking_code: code}, spec, feedback, form.querySelector("button"));
        });
        box.append(form);
      } else {
        const button = h("button", {type: "button", class: spec.danger ? "danger" : "", "data-action": target, text: spec.label});
        button.addEventListener("click", () => move(o, target, {}, spec, feedback, button));
        box.append(button);
      }
    }
    return box;
  }

  async function move(o, target, extra, spec, feedback, button) {
    if (!(await confirmAction(spec.confirm))) return;
    button.disabled = true;
    let r;
    try {
      r = await api("PATCH", `${BASE}/order`, {id: o.id, status: target, ...extra});
    } finally {
      button.disabled = false;
    }
    if (!r.ok) {
      const now = r.data.current_status ? ` (the order is ${statusText(r.data.current_status)} now)` : "";
      const refusal = notice("error", `Not done: ${r.data.error}${now}.`);
      // a 409: the order moved on meanwhile (another clerk, a stale page) — show it as it is now
      if (r.status === 409) return order(o.id, refusal);
      feedback.replaceChildren(refusal);
      return;
    }
    await order(o.id, notice("ok", `Order #${o.id} is ${statusText(r.data.status)} now.`));
  }

  async function slip(id) {
    const r = await api("GET", `${BASE}/order?id=${encodeURIComponent(id)}`);
    if (!r.ok) return show(h("h1", {text: "Packing slip"}), notice("error", r.data.error));
    const o = r.data;
    const a = o.address_detail;
    const printButton = h("button", {type: "button", id: "print", text: "Print"});
    printButton.addEventListener("click", () => window.print());
    show(
      h("p", {class: "no-print actions"}, h("a", {href: `#/order/${o.id}`, text: `← Order #${o.id}`}), printButton),
      h("article", {class: "slip", id: "slip"},
        h("h1", {text: `Packing slip · order #${o.id}`}),
        facts([["Ordered", when(o.created_at)], ["Courier", o.courier], ["Tracking", o.tracking_code || "—"]]),
        h("div", {class: "ship-to"}, h("strong", {text: "Ship to"}), h("br"), a.recipient_name, h("br"), a.phone_number,
          h("br"), a.full_address, h("br"), a.shipping_area, " ", a.postal_code, a.note ? [h("br"), `Note: ${a.note}`] : null),
        h("table", {},
          h("thead", {}, h("tr", {}, h("th", {scope: "col", text: "Packed"}), h("th", {scope: "col", text: "Product"}),
            h("th", {scope: "col", class: "num", text: "Qty"}), h("th", {scope: "col", class: "num", text: "Weight (kg)"}))),
          h("tbody", {}, o.item_list.map((i) => h("tr", {}, h("td", {}, h("span", {class: "tick", "aria-hidden": "true"})),
            h("td", {text: i.name}), h("td", {class: "num", text: i.quantity}),
            h("td", {class: "num", text: (i.weight * i.quantity).toFixed(2)}))))),
        h("p", {class: "muted", text: `${o.item_list.reduce((n, i) => n + i.quantity, 0)} units`})));
  }

  // ---- sales: an SVG bar chart of revenue per day, with the numbers as a table beneath it

  async function sales() {
    const r = await api("GET", `${BASE}/sales?days=30`);
    if (!r.ok) return show(h("h1", {text: "Sales"}), notice("error", r.data.error));
    const days = r.data;
    const W = 720, H = 240, pad = {l: 8, r: 8, t: 16, b: 28};
    const max = Math.max(1, ...days.map((d) => d.revenue));
    const bw = (W - pad.l - pad.r) / days.length;
    const chart = h("svg:svg", {class: "chart", id: "sales-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
                               "aria-label": "Revenue per day for the last 30 days"},
      h("svg:line", {class: "axis", x1: pad.l, x2: W - pad.r, y1: H - pad.b, y2: H - pad.b}),
      days.map((d, i) => {
        const bh = ((H - pad.t - pad.b) * d.revenue) / max;
        const x = pad.l + i * bw;
        return [
          h("svg:rect", {class: "bar", x: x + 1, y: H - pad.b - bh, width: Math.max(1, bw - 2), height: bh},
            h("svg:title", {text: `${d.day}: ${d.orders} orders, ${money(d.revenue)}`})),
          d.orders ? h("svg:text", {x: x + bw / 2, y: H - pad.b - bh - 3, "text-anchor": "middle", text: d.orders}) : null,
          i % 5 === 0 || i === days.length - 1
            ? h("svg:text", {x: x + bw / 2, y: H - 10, "text-anchor": "middle", text: d.day.slice(5)}) : null];
      }));
    const totalOrders = days.reduce((n, d) => n + d.orders, 0);
    const totalRevenue = days.reduce((n, d) => n + d.revenue, 0);
    show(h("h1", {text: "Sales, last 30 days"}),
      h("p", {id: "sales-totals"}, h("strong", {text: `${totalOrders} paid orders`}), `, ${money(totalRevenue)}`,
        h("span", {class: "muted", text: " (UTC days, by the day of payment; cancelled and refunded orders excluded)"})),
      h("section", {class: "card"}, chart, h("p", {class: "hint", text: "Bars: revenue per day; the number above a bar is its count of orders."})),
      h("details", {class: "card"}, h("summary", {text: "The numbers per day"}),
        h("div", {class: "table-wrap"}, h("table", {},
          h("thead", {}, h("tr", {}, h("th", {scope: "col", text: "Day"}), h("th", {scope: "col", class: "num", text: "Orders"}),
            h("th", {scope: "col", class: "num", text: "Revenue"}))),
          h("tbody", {}, days.slice().reverse().map((d) => h("tr", {}, h("td", {text: d.day}),
            h("td", {class: "num", text: d.orders}), h("td", {class: "num", text: money(d.revenue)}))))))));
  }

  // ---- staff accounts (sys_admin; the API refuses anyone else and protects the super admin)

  const ROLES = [["inv_user", "Inventory and orders"], ["fin_user", "Finance (orders)"], ["sys_admin", "System admin"]];

  function roleBoxes(prefix, member) {
    return h("fieldset", {class: "checks"}, h("legend", {text: "Roles"}),
      ROLES.map(([role, label]) => h("label", {},
        h("input", {type: "checkbox", name: role, id: `${prefix}-${role}`, checked: member ? member[role] : false}), label)));
  }

  async function staff(message) {
    const r = await api("GET", "/api/v1/staff/console/staff");
    const feedback = h("div", {id: "feedback", "aria-live": "polite"}, message || null);
    if (!r.ok) return show(h("h1", {text: "Staff accounts"}), notice("error", r.data.error));
    const create = h("form", {class: "card stack", id: "create-staff"},
      h("h2", {text: "New staff member"}),
      h("label", {for: "new-username", text: "Username"}),
      h("input", {id: "new-username", name: "username", required: true, maxlength: 32, autocomplete: "off",
                  "aria-describedby": "username-hint"}),
      h("p", {class: "hint", id: "username-hint", text: "Letters, digits, '.', '_' and '-' only."}),
      h("label", {for: "new-name", text: "Name"}),
      h("input", {id: "new-name", name: "name", required: true, maxlength: 100}),
      h("label", {for: "new-password", text: "First password"}),
      h("input", {id: "new-password", name: "password", type: "password", required: true, autocomplete: "new-password",
                  "aria-describedby": "pw-hint"}),
      h("p", {class: "hint", id: "pw-hint", text: "8 to 72 characters with a lowercase letter, an uppercase letter, a number and a special character."}),
      roleBoxes("new"),
      h("div", {class: "actions"}, h("button", {type: "submit", text: "Create"})));
    create.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {username: create.username.value.trim(), name: create.name.value.trim(), password: create.password.value};
      for (const [role] of ROLES) body[role] = create[role].checked;
      const c = await api("POST", "/api/v1/staff/console/staff", body);
      if (!c.ok) return feedback.replaceChildren(notice("error", `Not created: ${c.data.error}`));
      await staff(notice("ok", `${c.data.username} can log in now.`));
    });
    const rows = r.data.map((m) => {
      const roles = h("form", {class: "inline", "data-roles": m.username}, roleBoxes(`m${m.id}`, m),
        h("button", {type: "submit", class: "secondary", text: "Save roles", disabled: m.deleted}));
      roles.addEventListener("submit", async (event) => {
        event.preventDefault();
        const body = {id: m.id};
        for (const [role] of ROLES) body[role] = roles[role].checked;
        const u = await api("PATCH", "/api/v1/staff/console/staff", body);
        if (!u.ok) return feedback.replaceChildren(notice("error", `Roles of ${m.username} not changed: ${u.data.error}`));
        await staff(notice("ok", `Roles of ${m.username} saved; they apply from its next request.`));
      });
      const pw = h("form", {class: "inline", "data-password": m.username},
        h("div", {class: "field"}, h("label", {for: `pw-${m.id}`, text: "New password"}),
          h("input", {id: `pw-${m.id}`, name: "password", type: "password", autocomplete: "new-password", required: true})),
        h("button", {type: "submit", class: "secondary", text: "Set password", disabled: m.deleted}));
      pw.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (!(await confirmAction(`Set a new password for ${m.username}? Every session of ${m.username} ends at once.`))) return;
        const u = await api("PATCH", "/api/v1/staff/console/staff", {id: m.id, password: pw.password.value});
        if (!u.ok) return feedback.replaceChildren(notice("error", `Password of ${m.username} not set: ${u.data.error}`));
        await staff(notice("ok", `New password set for ${m.username}; its sessions were ended.`));
      });
      return h("tr", {"data-member": m.username},
        h("td", {"data-label": "Member"}, h("span", {}, h("strong", {text: m.username}), h("br"), m.name,
          m.deleted ? [h("br"), h("span", {class: "badge badge-cancelled", text: "deleted"})] : null)),
        h("td", {"data-label": "Roles"}, roles), h("td", {"data-label": "Password"}, pw));
    });
    show(h("h1", {text: "Staff accounts"}), feedback,
      h("section", {class: "card"}, h("div", {class: "table-wrap"}, h("table", {class: "stack", id: "staff-table"},
        h("thead", {}, h("tr", {}, ["Member", "Roles", "Password"].map((t) => h("th", {scope: "col", text: t})))),
        h("tbody", {}, rows)))),
      create);
  }

  // ---- routing

  async function route() {
    const [path, search] = (location.hash.replace(/^#/, "") || "/orders").split("?");
    const params = new URLSearchParams(search || "");
    const parts = path.split("/").filter(Boolean);
    if (!me) me = await whoAmI();
    if (!me) return showLogin();
    try {
      if (parts[0] === "order" && /^\d+$/.test(parts[1] || "")) await order(parts[1]);
      else if (parts[0] === "slip" && /^\d+$/.test(parts[1] || "")) await slip(parts[1]);
      else if (parts[0] === "sales") await sales();
      else if (parts[0] === "staff") await staff();
      else await orders(params);
      main.focus({preventScroll: true});
    } catch (err) {
      if (err.message !== "logged out") show(notice("error", `Something went wrong in the desk: ${err.message}`));
    }
  }

  document.getElementById("logout").addEventListener("click", async () => {
    await call("POST", "/api/v1/staff/auth/logout");
    try {
      for (const key of ["username", "fin_user", "inv_user", "sys_admin"]) localStorage.removeItem(key);
    } catch (e) { /* nothing kept */ }
    me = null;
    location.hash = "#/login";
    showLogin();
  });

  window.addEventListener("hashchange", route);
  route();
})();
