"""A speaker's browser publishes its (fake) camera from the studio; another tab watches."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from server.keys import LOGIN_LINKS, MEDIA, QA, RECORDER, STORE
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from sessions.demo import LIVE_PANEL_CODE
from sessions.qa import Ask, Moderate
from sessions.roles import Role
from tests.e2e.conftest import Server, page_until
from tests.e2e.test_archive_browser import open_console
from tests.e2e.test_stream_browser import frames_keep_coming

pytestmark = pytest.mark.e2e

KEY = StreamKey.panel(LIVE_PANEL_CODE)
ANOTHER_SPEAKER_LIVE = "Another speaker is live on this session."


async def studio_signed_in(
    context: BrowserContext,
    base_url: str,
    token: str,
    code: str,
    errors: list[str],
    sockets: list[str] | None = None,
) -> Page:
    """A speaker's sign-in link followed to the studio, its camera ready; page errors go
    into `errors`, the URLs of the sockets the page opens into `sockets`."""
    studio = await context.new_page()
    studio.on("pageerror", lambda error: errors.append(str(error)))
    if sockets is not None:
        studio.on("websocket", lambda socket: sockets.append(socket.url))
    await studio.goto(f"{base_url}/login/{token}")
    await studio.get_by_label("Display name").fill("Lena at the desk")
    await studio.get_by_role("button", name="Sign in").click()
    await expect(studio).to_have_url(f"{base_url}/sessions/{code}/studio")
    await expect(studio.locator("[data-studio-status]")).to_have_text(
        "Camera and microphone ready."
    )
    return studio


async def speaker_studio(
    browser: Browser, server: Server, errors: list[str], sockets: list[str] | None = None
) -> tuple[BrowserContext, Page]:
    app = server.app
    token, _ = await app[LOGIN_LINKS].issue(
        app[STORE], Role.SPEAKER, LIVE_PANEL_CODE, dt.datetime.now(dt.UTC), dt.timedelta(hours=1)
    )
    speaker = await browser.new_context()
    studio = await studio_signed_in(speaker, server.url, token, LIVE_PANEL_CODE, errors, sockets)
    return speaker, studio


class Studio:
    """What the studio page says about its own publication and about the session."""

    def __init__(self, page: Page) -> None:
        self.badge = page.locator("[data-studio-badge]")
        self.state = page.locator("[data-studio-state]")
        self.session = page.locator("[data-studio-session]")
        self.viewers = page.locator("[data-studio-viewers]")
        self.go_live = page.get_by_role("button", name="Go live")
        self.stop = page.get_by_role("button", name="Stop")

    async def says_live(self) -> None:
        await expect(self.state).to_have_text("You are live.")
        await expect(self.badge).to_have_text("Live")
        await expect(self.session).to_be_empty()

    async def says_stopped(self) -> None:
        await expect(self.state).to_have_text("Stopped: you are offline.")
        await expect(self.badge).to_have_text("Offline")
        await expect(self.viewers).to_be_empty()


async def test_publish_from_the_studio_and_watch_on_the_session_page(
    browser: Browser, server: Server
) -> None:
    app = server.app
    errors: list[str] = []
    sockets: list[str] = []
    speaker, page = await speaker_studio(browser, server, errors, sockets)
    studio = Studio(page)
    await expect(studio.badge).to_have_text("Preview")
    await expect(studio.state).to_have_text("Preview: you are not live.")
    camera = page.get_by_label("Camera", exact=True)
    await expect(camera.locator("option").first).to_be_attached()
    await studio.go_live.click()
    await studio.says_live()
    assert app[MEDIA].live(KEY) is not None
    await expect(studio.viewers).to_have_text("0 watching")

    audience = await browser.new_context()
    viewer = await audience.new_page()
    viewer.on("pageerror", lambda error: errors.append(str(error)))
    await viewer.goto(f"{server.url}/sessions/{LIVE_PANEL_CODE}")
    await frames_keep_coming(viewer)
    await expect(studio.viewers).to_have_text("1 watching")

    await studio.stop.click()
    await studio.says_stopped()
    await expect(page.get_by_text("You are live.")).to_have_count(0)
    await expect(studio.session).to_be_empty()
    await expect(viewer.locator("[data-player-badge]")).to_have_text("Offline")
    await expect(viewer.locator("[data-player-message]")).to_have_text("The stream has ended.")
    assert app[MEDIA].live(KEY) is None
    assert len(sockets) == 1, sockets  # the live topic and the Q&A share the page's socket
    assert errors == []
    await speaker.close()
    await audience.close()


async def test_another_speakers_stream_is_not_this_studios(
    browser: Browser, server: Server
) -> None:
    engine = server.app[MEDIA]
    start_synthetic_panel(engine, LIVE_PANEL_CODE, dt.datetime.now(dt.UTC))
    errors: list[str] = []
    speaker, page = await speaker_studio(browser, server, errors)
    studio = Studio(page)
    await expect(studio.session).to_have_text(ANOTHER_SPEAKER_LIVE)
    await expect(studio.badge).to_have_text("Preview")
    await expect(studio.state).to_have_text("Preview: you are not live.")

    await studio.go_live.click()
    await expect(studio.state).to_have_text(
        "Someone else is publishing on this session, so you are not live."
    )
    await expect(studio.badge).to_have_text("Not live")
    await expect(studio.session).to_have_text(ANOTHER_SPEAKER_LIVE)
    await expect(studio.go_live).to_be_enabled()
    await expect(studio.stop).to_be_disabled()

    other = engine.live(KEY)
    assert other is not None
    await engine.unpublish(other)
    await expect(studio.session).to_be_empty()
    await expect(studio.state).to_have_text("Preview: you are not live.")

    await studio.go_live.click()
    await studio.says_live()
    await studio.stop.click()
    await studio.says_stopped()
    await expect(studio.session).to_be_empty()

    start_synthetic_panel(engine, LIVE_PANEL_CODE, dt.datetime.now(dt.UTC))
    await expect(studio.session).to_have_text(ANOTHER_SPEAKER_LIVE)
    await expect(studio.state).to_have_text("Stopped: you are offline.")
    await expect(studio.badge).to_have_text("Offline")
    assert errors == []
    await speaker.close()


async def test_the_studio_reconnects_by_itself_when_its_connection_drops(
    browser: Browser, server: Server
) -> None:
    engine = server.app[MEDIA]
    errors: list[str] = []
    speaker, page = await speaker_studio(browser, server, errors)
    studio = Studio(page)
    await studio.go_live.click()
    await studio.says_live()
    publication = engine.live(KEY)
    assert publication is not None

    await engine.unpublish(publication, dropped=True)  # as when the network path breaks
    await expect(studio.state).to_have_text("Connection lost. Reconnecting…", timeout=30_000)
    await expect(studio.badge).to_have_text("Reconnecting")
    await expect(studio.session).to_be_empty()
    await expect(studio.state).to_have_text("You are live.", timeout=30_000)
    resumed = engine.live(KEY)
    assert resumed is not None and resumed is not publication
    assert resumed.started_at == publication.started_at  # the same stream, resumed
    await studio.stop.click()
    await studio.says_stopped()
    assert engine.live(KEY) is None and engine.paused(KEY) is None
    assert errors == []
    await speaker.close()


async def level_moves(meter: Locator, seconds: float = 15) -> None:
    """The meter shows a sound (a level above half its scale) and follows it: the fake
    microphone beeps, so the level also drops back by a tenth or more between beeps."""
    deadline = time.monotonic() + seconds
    loudest = 0.0
    while True:
        level = float(await meter.evaluate("(m) => m.value ?? m.getAttribute('aria-valuenow')"))
        loudest = max(loudest, level)
        if loudest >= 0.5 and level <= loudest - 0.1:
            return
        assert time.monotonic() < deadline, f"the meter stayed at {level} (loudest {loudest})"
        await asyncio.sleep(0.05)


async def test_the_microphone_level_meter_moves_before_and_while_live(
    browser: Browser, server: Server
) -> None:
    errors: list[str] = []
    speaker, page = await speaker_studio(browser, server, errors)
    meter = page.get_by_role("meter", name="Microphone level")
    await expect(meter).to_be_visible()
    await level_moves(meter)

    studio = Studio(page)
    await studio.go_live.click()
    await studio.says_live()
    await level_moves(meter)
    assert errors == []
    await speaker.close()


async def test_the_speaker_sees_the_question_on_screen(browser: Browser, server: Server) -> None:
    qa = server.app[QA]

    async def moderated(*commands: Ask | Moderate) -> None:
        for command in commands:
            await qa.submit(LIVE_PANEL_CODE, command, dt.datetime.now(dt.UTC))

    await moderated(
        Ask("q-shade", "p-ann", "Ann Asker", "Who pays for the shade?", addressed_to="lena"),
        Moderate("q-shade", "mod", "approve"),
    )
    errors: list[str] = []
    speaker, page = await speaker_studio(browser, server, errors)
    on_screen = page.get_by_role("region", name="Question on screen")
    await expect(on_screen).to_contain_text("No question on screen.")

    await moderated(Moderate("q-shade", "mod", "highlight"))
    await expect(on_screen.locator("[data-qa-text]")).to_have_text("Who pays for the shade?")
    await expect(on_screen.locator("[data-qa-author]")).to_have_text("Ann Asker")
    await expect(on_screen.locator("[data-qa-for]")).to_have_text("for Lena Hofbauer")
    await expect(on_screen.get_by_text("No question on screen.")).to_be_hidden()

    await moderated(Moderate("q-shade", "mod", "unhighlight"))
    await expect(on_screen.locator("[data-qa-text]")).to_be_hidden()
    await expect(on_screen.get_by_text("No question on screen.")).to_be_visible()

    await moderated(Moderate("q-shade", "mod", "highlight"))
    await page.reload()  # a question already on screen shows from the start
    await expect(on_screen.locator("[data-qa-text]")).to_have_text("Who pays for the shade?")
    assert errors == []
    await speaker.close()


async def test_a_rehearsal_reaches_moderators_only_and_a_moderator_can_end_the_stream(
    browser: Browser, server: Server
) -> None:
    app = server.app
    errors: list[str] = []
    speaker, page = await speaker_studio(browser, server, errors)
    studio = Studio(page)
    await page.get_by_role("button", name="Rehearse").click()
    await expect(studio.badge).to_have_text("Rehearsal")
    await expect(studio.state).to_contain_text("only this session’s moderators and speakers")
    publication = app[MEDIA].live(KEY)
    assert publication is not None and publication.rehearsal
    assert app[RECORDER].active.get(LIVE_PANEL_CODE) is None, "a rehearsal is not recorded"

    public = await browser.new_page()
    await public.goto(f"{server.url}/sessions/{LIVE_PANEL_CODE}")
    await expect(public.locator("[data-stream-state]").first).to_have_attribute(
        "data-stream-state", "offline"
    )
    assert app[MEDIA].state(KEY).state == "offline"

    console = await browser.new_page()
    await open_console(console, server)
    stream = console.locator("#stream-console")
    await expect(stream.locator("[data-stream-console-state]")).to_have_text("Rehearsal")
    preview = "document.querySelector('[data-stream-console-preview]')"
    await page_until(console, f"{preview}.videoWidth > 0", seconds=15)

    # from the rehearsal to the real thing, then the moderator ends it
    await studio.stop.click()
    await studio.says_stopped()
    await studio.go_live.click()
    await studio.says_live()
    await expect(stream.locator("[data-stream-console-state]")).to_have_text("Live")
    await stream.get_by_role("button", name="End the stream").click()
    await stream.get_by_role("button", name="Really end the stream? Click again").click()
    await expect(studio.badge).to_have_text("Ended")
    await expect(studio.state).to_have_text(
        "A moderator ended your stream. They can let you back on from the moderator console."
    )
    await expect(studio.go_live).to_be_enabled()
    assert app[MEDIA].live(KEY) is None, "the studio did not reconnect behind the moderator"
    assert errors == []
    await speaker.close()
