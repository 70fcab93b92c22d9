"""Pairing by QR code, end to end: Chromium's camera films the site's QR code, ``app/qr.js``
reads it, and the phone claims and allows the pairing (protocol §9.11).

The service runs under gunicorn (:class:`tests.server.live_service.LiveService`) with a
test page under ``app/`` that carries the app's Content-Security-Policy
(``tests/browser/qr_urls.py``). Chromium's fake camera plays a Y4M file
(``tests/browser/fake_camera.py``) that each test fills with the code it needs before it
starts the camera. Linux Chromium has no ``BarcodeDetector``, so jsQR is what decodes
here; each scan prints which decoder it used.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests
import segno

import toopher
from tests.server.live_service import Instance, LiveService
from toopher_server.testing import TestPhone

from .conftest import launch_chromium
from .csp_watch import watch_csp
from .fake_camera import write_qr_video

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Milliseconds a scan may take before the test gives up on it.
SCAN_TIMEOUT_MS = 15_000

# Scan with qr.js in the test page: the module as the app imports it, the camera opened
# by scanQrCode itself, or (ownStream) by the page first, as the app's pairing screen does.
SCAN = """async ({ownStream, timeout}) => {
  const qr = await import(new URL("qr.js", document.baseURI).href);
  const video = document.getElementById("camera");
  let stream = null;
  if (ownStream) {
    stream = await navigator.mediaDevices.getUserMedia({video: true});
    video.srcObject = stream;
    await video.play();
  }
  const text = await qr.scanQrCode(video, {signal: AbortSignal.timeout(timeout)});
  return {
    text,
    pairingId: qr.pairingIdFromQrText(text),
    decoder: await qr.qrDecoderName(),
    cameraLeftOn: stream ? stream.getVideoTracks()[0].readyState === "live" : null,
    videoCleared: video.srcObject === null,
  };
}"""

# A scan aborted while the camera shows no code: how it ends, and whether the camera closed.
ABORTED_SCAN = """async () => {
  const qr = await import(new URL("qr.js", document.baseURI).href);
  const video = document.getElementById("camera");
  const controller = new AbortController();
  const scanning = qr.scanQrCode(video, {signal: controller.signal});
  await new Promise((resolve) => video.addEventListener("playing", resolve, {once: true}));
  const tracks = video.srcObject.getTracks();
  controller.abort();
  try {
    return {resolved: await scanning};
  } catch (error) {
    return {error: error.name, tracks: tracks.map((t) => t.readyState),
            videoCleared: video.srcObject === null};
  }
}"""

PAIRING_ID = """([text, service]) => import(new URL("qr.js", document.baseURI).href)
  .then((qr) => service === null ? qr.pairingIdFromQrText(text)
                                 : qr.pairingIdFromQrText(text, {service}))"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    live = LiveService(tmp_path_factory.mktemp("qr-service"), settings="tests.browser.qr_settings")
    try:
        live.start()
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def instance(service: LiveService) -> Instance:
    return service.instances[0]


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake camera's video; each test writes the code it films."""
    return write_qr_video(tmp_path_factory.mktemp("camera") / "camera.y4m", None)


@pytest.fixture(scope="module")
def browser(camera: Path) -> Iterator[Any]:
    """Chromium whose camera is the fake one, allowed without asking."""
    yield from launch_chromium(
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    )


@pytest.fixture
def api(service: LiveService, instance: Instance) -> Iterator[toopher.ToopherApi]:
    client = service.api(instance)
    yield client
    client.close()


def scan_page(context: Any, instance: Instance) -> Any:
    page = context.new_page()
    page.goto(instance.url("/app/qr-scan-test"))
    return page


def scan(context: Any, instance: Instance, *, own_stream: bool = False) -> dict[str, Any]:
    page = scan_page(context, instance)
    result = dict(page.evaluate(SCAN, {"ownStream": own_stream, "timeout": SCAN_TIMEOUT_MS}))
    page.close()
    print(f"QR code decoded by {result['decoder']}: {result['text']}")
    return result


def shown_link(api: toopher.ToopherApi, instance: Instance, pairing_id: str) -> str:
    """The text of the QR code the site shows (P5), checked against the service's image."""
    link = f"{instance.base_url}/r/pairings/{pairing_id}"
    expected = io.BytesIO()
    segno.make(link, error="m").save(expected, kind="png", scale=6, border=4)
    assert api.get_qr_code_image(pairing_id) == expected.getvalue()
    return link


def test_the_app_scans_the_sites_qr_code_and_the_phone_pairs(
    context: Any, instance: Instance, camera: Path, api: toopher.ToopherApi
) -> None:
    violations = watch_csp(context)
    pairing = api.pair_qr("ann@example.com")
    link = shown_link(api, instance, pairing.id)
    write_qr_video(camera, link)

    result = scan(context, instance)
    assert result["text"] == link
    assert result["pairingId"] == pairing.id
    assert result["videoCleared"] is True  # the camera scanQrCode opened is closed again
    assert violations == []

    with closing(TestPhone(instance.base_url)) as phone:
        phone.enrol()
        shown = phone.claim_qr(result["pairingId"])
        assert (shown["id"], shown["user"], shown["state"]) == (
            pairing.id, "ann@example.com", "pending",
        )  # fmt: skip
        assert api.get_pairing_status(pairing.id).pending is True  # a claim alone pairs nothing
        phone.allow_pairing(pairing.id)
    status = api.get_pairing_status(pairing.id)
    assert (status.pending, status.enabled) == (False, True)


def test_the_jsqr_path_reads_the_code_where_there_is_no_barcode_detector(
    context: Any, instance: Instance, camera: Path, api: toopher.ToopherApi
) -> None:
    context.add_init_script("delete window.BarcodeDetector;")
    violations = watch_csp(context)
    pairing = api.pair_qr("bea@example.com")
    link = shown_link(api, instance, pairing.id)
    write_qr_video(camera, link)

    result = scan(context, instance, own_stream=True)
    assert result["decoder"] == "jsQR"
    assert (result["text"], result["pairingId"]) == (link, pairing.id)
    assert result["cameraLeftOn"] is True  # the page's own stream is the page's to stop
    assert violations == []


def test_a_code_of_another_origin_does_not_pair(
    context: Any, instance: Instance, camera: Path, api: toopher.ToopherApi
) -> None:
    pairing = api.pair_qr("cal@example.com")
    foreign = f"http://localhost:{instance.port}/r/pairings/{pairing.id}"  # another origin
    write_qr_video(camera, foreign)

    result = scan(context, instance)
    assert result["text"] == foreign
    assert result["pairingId"] is None
    assert api.get_pairing_status(pairing.id).pending is True


def test_an_aborted_scan_rejects_and_closes_the_camera(
    context: Any, instance: Instance, camera: Path
) -> None:
    write_qr_video(camera, None)  # nothing to find
    page = scan_page(context, instance)
    result = page.evaluate(ABORTED_SCAN)
    assert result == {"error": "AbortError", "tracks": ["ended"], "videoCleared": True}


def test_only_this_services_link_or_a_bare_id_gives_a_pairing_id(
    context: Any, instance: Instance
) -> None:
    page = scan_page(context, instance)
    base = instance.base_url
    pid = str(uuid.uuid4())

    def pairing_id(text: str, service: str | None = None) -> Any:
        return page.evaluate(PAIRING_ID, [text, service])

    assert pairing_id(f"{base}/r/pairings/{pid}") == pid
    assert pairing_id(f"{base}/r/pairings/{pid.upper()}") == pid
    assert pairing_id(f"  {pid}\n") == pid
    for text in [
        f"https://evil.example/r/pairings/{pid}",  # another site
        f"http://localhost:{instance.port}/r/pairings/{pid}",  # another origin
        f"{base}/other/r/pairings/{pid}",  # another mount point
        f"{base}/r/pairings/{pid}?next=x",
        f"{base}/r/pairings/{pid}#x",
        f"{base}/r/pairings/{pid}/extra",
        f"http://user@{base[len('http://'):]}/r/pairings/{pid}",
        f"{base}/r/pairings/not-a-uuid",
        "agile otter",  # a phrase is typed into the site, never scanned
        "",
    ]:
        assert pairing_id(text) is None, text
    # A service mounted under a prefix: its links carry the prefix.
    assert pairing_id(f"{base}/toopher/r/pairings/{pid}", f"{base}/toopher/") == pid
    assert pairing_id(f"{base}/r/pairings/{pid}", f"{base}/toopher/") is None


def test_the_authenticator_app_pairs_by_scanning_the_sites_code(
    context: Any, instance: Instance, camera: Path, api: toopher.ToopherApi
) -> None:
    """The whole app (where this build has it): set up, scan, allow; the site sees it paired."""
    if requests.get(instance.url("/app/"), timeout=10).status_code == 404:
        pytest.skip("this build has no authenticator app at app/")
    from playwright.sync_api import expect

    violations = watch_csp(context)
    pairing = api.pair_qr("dee@example.com")
    write_qr_video(camera, shown_link(api, instance, pairing.id))
    page = context.new_page()
    page.goto(instance.url("/app/"))
    page.wait_for_function("() => window.toopherApp && window.toopherApp.ready")
    page.get_by_label("Device name").fill("QR phone")
    page.get_by_role("button", name="Set up").click()
    page.get_by_role("link", name="Pair").click()
    page.get_by_role("button", name="Scan QR code").click()

    article = page.locator(f'article[data-pairing-id="{pairing.id}"]')
    expect(article).to_contain_text("dee@example.com")
    assert api.get_pairing_status(pairing.id).pending is True
    article.get_by_role("button", name="Allow").click()
    expect(article).to_contain_text("Paired.")
    status = api.get_pairing_status(pairing.id)
    assert (status.pending, status.enabled) == (False, True)
    assert violations == []


def test_the_decoder_is_served_beside_the_app(instance: Instance) -> None:
    answer = requests.get(instance.url("/app/vendor/jsqr.js"), timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/javascript")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    again = requests.get(
        instance.url("/app/vendor/jsqr.js"),
        headers={"If-None-Match": answer.headers["ETag"]},
        timeout=10,
    )
    assert again.status_code == 304
    assert requests.post(instance.url("/app/vendor/jsqr.js"), timeout=10).status_code == 405
