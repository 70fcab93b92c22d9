/*
 * The push half of the authenticator's service worker (docs/push.md).
 *
 * The app's sw.js loads it with importScripts("sw-push.js"); it is served next to sw.js,
 * so the worker's scope is the app's (app/). A push's payload is {"request_id": "<uuid>"}
 * and nothing else (protocol §9.12).
 *
 * push: always shows a notification (iOS withdraws the permission of an app that does
 *   not), generic because the payload holds no site, user or action; tag = the request
 *   id, data = {request_id}; and posts {type: "toopher-push", request_id} to every
 *   window of the app, which refreshes its list.
 * notificationclick: focuses an open window of the app and sends it to
 *   #/requests/<id>, or opens ./#/requests/<id>.
 */
"use strict";

(function () {
  // Title and body by the browser's language (the app's own catalogues are not
  // reachable from here): English, German, Spanish, French, Japanese, Brazilian Portuguese.
  const TEXTS = {
    en: ["Approve a request?", "Open the authenticator to allow or deny it."],
    de: ["Anfrage bestätigen?", "Öffnen Sie den Authenticator, um sie zu erlauben oder abzulehnen."],
    es: ["¿Aprobar una solicitud?", "Abra el autenticador para permitirla o denegarla."],
    fr: ["Approuver une demande ?", "Ouvrez l’authentificateur pour l’accepter ou la refuser."],
    ja: ["リクエストを承認しますか?", "認証アプリを開いて、許可または拒否してください。"],
    "pt-BR": ["Aprovar uma solicitação?", "Abra o autenticador para permitir ou negar."],
  };
  const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  function texts() {
    const nav = self.navigator || {};
    const wanted = nav.languages && nav.languages.length ? nav.languages : [nav.language || "en"];
    for (const language of wanted) {
      if (TEXTS[language]) return TEXTS[language];
      const base = String(language).split("-")[0];
      if (base === "pt") return TEXTS["pt-BR"];
      if (TEXTS[base]) return TEXTS[base];
    }
    return TEXTS.en;
  }

  function requestIdOf(event) {
    try {
      const data = event.data ? event.data.json() : null;
      const id = data && typeof data.request_id === "string" ? data.request_id.toLowerCase() : "";
      return REQUEST_ID.test(id) ? id : null;
    } catch (error) {
      return null; // not JSON: still show the notification
    }
  }

  function appWindows() {
    return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((all) =>
      all.filter((client) => client.url.startsWith(self.registration.scope)),
    );
  }

  function requestUrl(id) {
    const hash = id ? "#/requests/" + encodeURIComponent(id) : "#/";
    return new URL("./" + hash, self.registration.scope).href;
  }

  self.addEventListener("push", (event) => {
    const id = requestIdOf(event);
    const [title, body] = texts();
    const show = self.registration.showNotification(title, {
      body: body,
      tag: id || "toopher-request",
      renotify: true,
      data: { request_id: id },
    });
    // The windows are told once the notification exists (an app may close it then).
    const tell = () =>
      appWindows().then((windows) => {
        for (const client of windows) client.postMessage({ type: "toopher-push", request_id: id });
      });
    event.waitUntil(Promise.all([show, show.catch(() => undefined).then(tell)]));
  });

  self.addEventListener("notificationclick", (event) => {
    event.notification.close();
    const data = event.notification.data || {};
    const target = requestUrl(typeof data.request_id === "string" ? data.request_id : null);
    event.waitUntil(
      appWindows().then(async (windows) => {
        const open = windows.find((client) => "focus" in client);
        if (!open) return self.clients.openWindow(target);
        try {
          await open.focus();
        } catch (error) {
          // Not allowed to take the focus (no user activation): still show the request.
        }
        try {
          return await open.navigate(target);
        } catch (error) {
          // Not controlled by this worker (navigate() refuses): the app follows the message.
          open.postMessage({ type: "toopher-open", request_id: data.request_id || null, url: target });
          return undefined;
        }
      }),
    );
  });
})();
