"""FFmpeg's own WHIP muxer (libavformat's ``whip``, bundled with PyAV) as a publisher.

    python tests/ffmpeg_whip_publisher.py WHIP_URL TOKEN SECONDS [CERT_PEM KEY_PEM]

It encodes a test pattern with libx264 and a tone with libopus and hands both to the muxer,
which does the POST with the bearer token, ICE, DTLS (as server: FFmpeg offers
``a=setup:passive``), SRTP and the DELETE when it is closed. Exits 0 once it has streamed
for SECONDS; any failure raises and exits 1 with FFmpeg's error.

This is ``ffmpeg -f whip -authorization TOKEN [-cert_file CERT -key_file KEY] URL``
without the command-line tool, which Debian 12 ships only in a version without WHIP.
"""

from __future__ import annotations

import fractions
import sys
import time

import av

FPS = 30


def main() -> int:
    url, token, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    options = {"authorization": token, "handshake_timeout": "10000"}
    if len(sys.argv) > 5:
        options |= {"cert_file": sys.argv[4], "key_file": sys.argv[5]}
    output = av.open(url, "w", format="whip", options=options)
    video = output.add_stream("libx264", rate=FPS)
    video.width, video.height, video.pix_fmt = 640, 360, "yuv420p"
    video.options = {"preset": "ultrafast", "tune": "zerolatency", "bf": "0", "g": str(FPS)}
    audio = output.add_stream("libopus", rate=48_000, layout="stereo")
    pattern = av.open(f"testsrc2=size=640x360:rate={FPS}", format="lavfi")
    tone = av.open("sine=frequency=440:sample_rate=48000", format="lavfi")
    tone_frames = tone.decode(audio=0)
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=48_000)
    started = time.monotonic()
    audio_seconds = 0.0
    for index, frame in enumerate(pattern.decode(video=0)):
        frame.pts, frame.time_base = index, fractions.Fraction(1, FPS)
        output.mux(video.encode(frame))
        while audio_seconds <= index / FPS:
            for resampled in resampler.resample(next(tone_frames)):
                audio_seconds += resampled.samples / 48_000
                output.mux(audio.encode(resampled))
        if index / FPS >= seconds:
            break
        time.sleep(max(0.0, started + (index + 1) / FPS - time.monotonic()))
    output.close()
    print("streamed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
