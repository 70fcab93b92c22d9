"""The service at the root, and under ``app/`` a test page and a service worker for it:
test hooks, then the app's real ``sw.js`` (which imports the real ``sw-push.js``), both
served by the app's own views. ``app/`` itself is a page that reports where a tap on
the notification led (the app's page in the product)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

TEST_SW = """
// Each notification sw-push.js shows is also told to the page (headless Firefox may not
// keep it for getNotifications()).
const show = ServiceWorkerRegistration.prototype.showNotification;
ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
  const shown = show.call(this, title, options);
  const tell = (outcome) => self.clients.matchAll({type: "window", includeUncontrolled: true})
    .then((all) => all.forEach((client) => client.postMessage({
      type: "test-notification", title, tag: options.tag, data: options.data, outcome})));
  shown.then(() => tell("shown"), (error) => tell(String(error)));
  return shown;
};
importScripts("sw.js");  // the app's worker, with importScripts("sw-push.js")
// The page asks for a tap on a notification: the same event a real tap gives the worker.
self.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "test-click") return;
  event.waitUntil(self.registration.getNotifications({tag: event.data.tag}).then((shown) => {
    for (const notification of shown) {
      self.dispatchEvent(new NotificationEvent("notificationclick", {notification}));
    }
  }));
});
"""

PAGE = """<!doctype html>
<meta charset="utf-8"><title>Push test</title>
<script>
(async () => {
  const params = new URLSearchParams(location.search);
  sessionStorage.report = params.get("report");  // for the page a tap opens
  const report = (data) =>
    fetch(params.get("report"), {method: "POST", mode: "no-cors", body: JSON.stringify(data)});
  try {
    navigator.serviceWorker.addEventListener("message", async (event) => {
      const registration = await navigator.serviceWorker.ready;
      const shown = await registration.getNotifications();
      await report({kind: "message", data: event.data, tags: shown.map((n) => n.tag)});
      if (event.data.type === "toopher-push" && params.get("click")) {
        registration.active.postMessage({type: "test-click", tag: event.data.request_id});
      }
    });
    navigator.serviceWorker.startMessages();
    const registration = await navigator.serviceWorker.register("test-sw.js", {scope: "./"});
    await navigator.serviceWorker.ready;
    const text = atob(params.get("vapid").replace(/-/g, "+").replace(/_/g, "/"));
    const key = Uint8Array.from(text, (c) => c.charCodeAt(0));
    let subscription = null;
    // The first subscribe after a cold start can stall: give each try 5 s.
    for (let attempt = 1; !subscription && attempt <= 8; attempt++) {
      const timeout = new Promise((resolve) => setTimeout(() => resolve(null), 5000));
      subscription = await Promise.race([
        registration.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key}),
        timeout,
      ]).catch((error) => report({kind: "retry", attempt, error: String(error)}).then(() => null));
    }
    await report({kind: "subscription", subscription: subscription && subscription.toJSON()});
  } catch (error) {
    await report({kind: "error", error: String(error)});
  }
})();
</script>
"""


#: Where a tap on the notification leads (the app's page in the product).
OPENED = """<!doctype html>
<meta charset="utf-8"><title>App</title>
<script>
const seen = {kind: "opened", path: location.pathname, hash: location.hash};
fetch(sessionStorage.report, {method: "POST", mode: "no-cors", body: JSON.stringify(seen)});
</script>
"""


def _js(text: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE)


def opened(request: HttpRequest) -> HttpResponse:
    return HttpResponse(OPENED)


def test_sw(request: HttpRequest) -> HttpResponse:
    return _js(TEST_SW)


urlpatterns = [
    path("app/", opened),
    path("app/push-test", page),
    path("app/test-sw.js", test_sw),
    path("", include("toopher_server.urls")),
]
