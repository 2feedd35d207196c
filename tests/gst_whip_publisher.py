"""A GStreamer (webrtcbin) WHIP publisher, run with the system Python and its gi bindings.

    /usr/bin/python3 tests/gst_whip_publisher.py WHIP_URL TOKEN SECONDS

It offers VP8, waits for its ICE candidates, POSTs the offer with the bearer token, applies
the answer and streams a test pattern; it exits 0 if the connection got established.
This is what GStreamer's own WHIP elements do, without their HTTP stack.
"""

from __future__ import annotations

import sys
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

PIPELINE = (
    "webrtcbin name=send bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern=ball ! videoconvert ! queue ! "
    "vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 ! "
    "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! send."
)


def main() -> int:
    url, token, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    Gst.init(None)
    pipeline = Gst.parse_launch(PIPELINE)
    webrtc = pipeline.get_by_name("send")
    loop = GLib.MainLoop()
    state = {"connected": False, "offered": False}

    def post_offer() -> None:
        offer = webrtc.get_property("local-description").sdp.as_text()
        request = urllib.request.Request(  # noqa: S310 - the test server's http URL
            url,
            data=offer.encode(),
            method="POST",
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - test URL
            assert response.status == 201, response.status
            answer_text = response.read().decode()
        _, message = GstSdp.SDPMessage.new_from_text(answer_text)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)
        webrtc.emit("set-remote-description", answer, None)
        print("answered", flush=True)

    def post_offer_once() -> bool:
        post_offer()
        return False  # GLib: do not call again

    def on_gathering(element: Gst.Element, _: object) -> None:
        complete = GstWebRTC.WebRTCICEGatheringState.COMPLETE
        if element.get_property("ice-gathering-state") == complete and not state["offered"]:
            state["offered"] = True
            GLib.idle_add(post_offer_once)

    def on_offer(promise: Gst.Promise, _: object) -> None:
        reply = promise.get_reply()
        offer = reply.get_value("offer") if reply is not None else None
        if offer is None:
            print(f"no offer: {reply.to_string() if reply else None}", file=sys.stderr)
            loop.quit()
            return
        webrtc.emit("set-local-description", offer, None)

    def on_negotiation_needed(element: Gst.Element) -> None:
        element.emit("create-offer", None, Gst.Promise.new_with_change_func(on_offer, None))

    def on_connection(element: Gst.Element, _: object) -> None:
        if (
            element.get_property("connection-state")
            == GstWebRTC.WebRTCPeerConnectionState.CONNECTED
        ):
            state["connected"] = True
            print("connected", flush=True)

    webrtc.connect("on-negotiation-needed", on_negotiation_needed)
    webrtc.connect("notify::ice-gathering-state", on_gathering)
    webrtc.connect("notify::connection-state", on_connection)
    pipeline.set_state(Gst.State.PLAYING)
    GLib.timeout_add(int(seconds * 1000), loop.quit)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    return 0 if state["connected"] else 1


if __name__ == "__main__":
    sys.exit(main())
