// Progressive enhancement of the request form: the page works without this file.
// The rules come from the page itself, rendered by the server from the rules it enforces
// (the refused-PIN table and the phone and email patterns), so the two cannot disagree.
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  if (!form) { return; }
  var messages = JSON.parse(form.dataset.messages);
  var refusedPins = JSON.parse(form.dataset.refusedPins);
  var phonePattern = new RegExp(form.dataset.phonePattern);
  var emailPattern = new RegExp(form.dataset.emailPattern);
  var summary = document.getElementById("error-summary");
  var touched = {};

  function field(name) { return form.elements.namedItem(name); }
  function channel() {
    var checked = form.querySelector("input[name=contact]:checked");
    return checked ? checked.value : "";
  }

  var checks = {
    first_name: function () { return field("first_name").value.trim() ? "" : "err_first_name"; },
    last_name: function () { return field("last_name").value.trim() ? "" : "err_last_name"; },
    date_of_birth: function () {
      var input = field("date_of_birth");
      var value = input.value.trim();
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || isNaN(Date.parse(value))) { return "err_date_of_birth"; }
      if (value > input.max) { return "err_date_future"; }
      if (value < input.min) { return "err_date_early"; }
      return "";
    },
    contact: function () { return channel() ? "" : "err_contact"; },
    phone: function () {
      if (channel() !== "sms") { return ""; }
      return phonePattern.test(field("phone").value.trim()) ? "" : "err_phone";
    },
    email: function () {
      if (channel() !== "email") { return ""; }
      return emailPattern.test(field("email").value.trim()) ? "" : "err_email";
    },
    pin: function () {
      var pin = field("pin").value;
      if (!/^[0-9]{4}$/.test(pin)) { return "err_pin_digits"; }
      return refusedPins[pin] ? "err_pin_" + refusedPins[pin] : "";
    },
    consent: function () { return field("consent").checked ? "" : "err_consent"; }
  };

  function show(name, key) {
    var message = document.getElementById(name + "-error");
    var text = key ? messages[key] : "";
    if (message.textContent !== text) { message.textContent = text; }
    var input = name === "contact" ? null : field(name);
    if (input) {
      if (key) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    }
  }

  function check(name) {
    var key = checks[name]();
    show(name, key);
    return key;
  }

  function showChannel() {
    var sms = channel() !== "email";
    document.getElementById("phone-field").hidden = !sms;
    document.getElementById("email-field").hidden = sms;
    show(sms ? "email" : "phone", "");
  }

  Object.keys(checks).forEach(function (name) {
    var input = name === "contact" ? null : field(name);
    if (!input) { return; }
    input.addEventListener("blur", function () { touched[name] = true; check(name); });
    input.addEventListener("input", function () { if (touched[name]) { check(name); } });
  });
  form.querySelectorAll("input[name=contact]").forEach(function (radio) {
    radio.addEventListener("change", function () { showChannel(); show("contact", ""); });
  });

  // The script's own messages replace the browser's, which are not in the page's language.
  form.noValidate = true;
  form.addEventListener("submit", function (event) {
    var failed = [];
    Object.keys(checks).forEach(function (name) {
      var key = check(name);
      if (key) { failed.push([name, key]); }
    });
    if (!failed.length) { return; }
    event.preventDefault();
    var list = summary.querySelector("ul");
    list.textContent = "";
    failed.forEach(function (item) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + (item[0] === "contact" ? "contact-sms" : item[0]);
      link.textContent = messages[item[1]];
      li.appendChild(link);
      list.appendChild(li);
    });
    summary.hidden = false;
    summary.focus();
  });

  // A language link posts what was typed (the server sends back all but the PIN) so the form
  // comes back in the other language without it being lost. form.submit() skips the checks.
  document.querySelectorAll(".languages a[hreflang]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "switch_language";
      input.value = link.getAttribute("hreflang");
      form.appendChild(input);
      form.submit();
    });
  });

  showChannel();
  if (!summary.hidden) { summary.focus(); }
})();
