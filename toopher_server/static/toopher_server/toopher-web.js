/* toopher-web.js (sandbox edition, no jQuery needed): the host-page helper of spec §5.3.

   <iframe id="toopher_iframe" src="SIGNED URL" toopher_postback="/your/postback"
           framework_post_args='{"csrfmiddlewaretoken": "..."}' use_ajax_postback></iframe>

   When the iframe completes, the signed payload (plus framework_post_args) is posted to
   the toopher_postback URL as one form field, toopher_iframe_data (2.0 helper). */
(function () {
  "use strict";

  function encode(value) {
    return encodeURIComponent(value).replace(/%20/g, "+");
  }

  function param(data) {
    return Object.keys(data).map(function (k) { return encode(k) + "=" + encode(data[k]); })
      .join("&");
  }

  function postback(frame, payload) {
    var extra = {};
    try { extra = JSON.parse(frame.getAttribute("framework_post_args") || "{}"); } catch (e) { extra = {}; }
    var data = {};
    Object.keys(payload).forEach(function (k) { data[k] = payload[k]; });
    Object.keys(extra).forEach(function (k) { data[k] = extra[k]; });
    var target = frame.getAttribute("toopher_postback") || window.location.href;
    var body = param(data);
    if (frame.hasAttribute("use_ajax_postback")) {
      var headers = { "Content-Type": "application/x-www-form-urlencoded" };
      fetch(target, { method: "POST", credentials: "same-origin", headers: headers,
                      body: "toopher_iframe_data=" + encode(body) });
      return;
    }
    var form = document.createElement("form");
    form.method = "POST";
    form.action = target;
    form.style.display = "none";
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "toopher_iframe_data";
    input.value = body;
    form.appendChild(input);
    Object.keys(extra).forEach(function (k) {  /* e.g. a CSRF token the framework checks */
      var field = document.createElement("input");
      field.type = "hidden"; field.name = k; field.value = extra[k];
      form.appendChild(field);
    });
    document.body.appendChild(form);
    form.submit();
  }

  window.addEventListener("message", function (event) {
    var frame = document.getElementById("toopher_iframe");
    if (!frame || event.source !== frame.contentWindow) { return; }
    var message;
    try { message = typeof event.data === "string" ? JSON.parse(event.data) : event.data; }
    catch (e) { return; }
    if (message && message.status === "toopher-api-complete") { postback(frame, message.payload); }
  });
})();
