"""The tip page as a person uses it, in headless Chromium against the real stack."""

import asyncio
import json
import re
import statistics
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Request, Route, expect
from sqlalchemy import update

from store.models import Session
from tests.browser.conftest import TIP_TEXT, WAIT_MS, Stack, artifact, open_context, until

FIRST_TIP_BUDGET_MS = 300
# Every layout shift the page made, as the browser scores it (0 = nothing ever moved).
LAYOUT_SHIFT = """() => new Promise((done) => {
  let score = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) score += e.value;
  }).observe({ type: "layout-shift", buffered: true });
  setTimeout(() => done(score), 300);
})"""
FIRST_TIP = """() => {
  const [mark] = performance.getEntriesByName("oo:tip-rendered");
  const [nav] = performance.getEntriesByType("navigation");
  const [tip] = performance.getEntriesByName(new URL("/api/tip", location).href);
  const [fcp] = performance.getEntriesByName("first-contentful-paint");
  return {
    first_contentful_paint_ms: fcp ? fcp.startTime : null,
    api_tip_start_ms: tip.startTime,
    api_tip_end_ms: tip.responseEnd,
    tip_rendered_ms: mark.startTime,
    response_end_ms: nav.responseEnd,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    load_event_ms: nav.loadEventEnd,
    resources: performance.getEntriesByType("resource").map((r) =>
      [r.name.replace(location.origin, ""), Math.round(r.startTime), Math.round(r.responseEnd)]),
  };
}"""
# Visible text whose contrast with what is behind it is below WCAG AA (4.5:1).
LOW_CONTRAST = """() => {
  const channels = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = (c) => {
    const [r, g, b] = channels(c).slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const opaque = (c) => (channels(c)[3] ?? 1) > 0;
  const behind = (e) => {
    for (; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      if (opaque(bg)) return bg;
    }
    return "rgb(0, 0, 0)";
  };
  const low = [];
  for (const e of document.querySelectorAll("body *")) {
    const text = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text || !e.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    const [a, b] = [lum(getComputedStyle(e).color), lum(behind(e))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(`${e.id || e.tagName}: ${ratio.toFixed(2)}`);
  }
  return low;
}"""
# Every path the service worker's caches hold.
CACHED_PATHS = """async () => {
  const paths = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) {
      paths.push(new URL(request.url).pathname);
    }
  }
  return paths.sort();
}"""
NO_HORIZONTAL_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


async def sign_in(page: Page, stack: Stack) -> None:
    """Open the one-time link and wait for the stored tip."""
    user_id = await stack.demo_user_with_tip()
    await page.goto(await stack.login_link(user_id))
    await expect(page.locator("#tip-text")).to_have_text(TIP_TEXT)


async def controlled_by_service_worker(page: Page) -> None:
    await until(page, "navigator.serviceWorker.controller !== null")


async def test_the_dev_link_signs_in_and_shows_the_tip_alone(page: Page, stack: Stack) -> None:
    await sign_in(page, stack)
    assert "#login" not in page.url  # the one-time token left the address bar at once
    assert await page.evaluate(LAYOUT_SHIFT) == 0
    # Nothing but the tip is on screen until the person reaches for the controls.
    assert await page.locator("#reactions").evaluate("e => getComputedStyle(e).opacity") == "0"
    assert await page.locator("#offline").is_hidden()
    await page.screenshot(path=artifact("tip.png"))
    await page.hover("#tip")
    await expect(page.locator("#reactions")).to_have_css("opacity", "1")
    await page.screenshot(path=artifact("tip-controls.png"))


async def painted(page: Page, visit: str) -> dict[str, object]:
    """The page's own "first tip" figure and the navigation's, once the tip is on screen."""
    await expect(page.locator("#tip-text")).to_have_text(TIP_TEXT)
    await until(page, "performance.getEntriesByName('oo:tip-rendered').length > 0")
    return {"visit": visit, **await page.evaluate(FIRST_TIP)}


async def browser_warm_up(browser: Browser, stack: Stack, path: str) -> None:
    ctx = await open_context(browser, stack)
    await ctx.request.get(path)
    await ctx.close()


async def test_the_first_tip_is_painted_within_300_ms(browser: Browser, stack: Stack) -> None:
    user_id = await stack.demo_user_with_tip()
    figures = []
    # A signed-in person opening the page: with an empty cache (a fresh profile each time),
    # then as a returning visitor whose service worker is in place. Medians of three: other
    # suites share this machine's two cores.
    # A running server has paid its one-time costs (worker threads, first connections).
    for path in ("/", "/static/style.css", "/static/app.js", "/api/tip"):
        await browser_warm_up(browser, stack, path)
    for _ in range(3):
        ctx = await open_context(browser, stack)
        token = (await stack.login_link(user_id)).split("#login=")[1]
        await ctx.request.post("/api/auth/dev-login", data={"token": token})
        page = await ctx.new_page()
        asked: list[str] = []
        page.on(
            "request", lambda r, asked=asked: r.url.endswith("/api/tip") and asked.append(r.url)
        )
        await page.goto("/")
        figures.append(await painted(page, "first"))
        assert len(asked) == 1, "the preloaded tip is the one the page uses"
        if len(figures) < 3:
            await ctx.close()
    await controlled_by_service_worker(page)
    for _ in range(3):
        await page.reload()
        figures.append(await painted(page, "returning"))
    await ctx.close()

    def median(visit: str) -> float:
        return statistics.median(
            float(f["tip_rendered_ms"]) for f in figures if f["visit"] == visit
        )

    first, returning = median("first"), median("returning")
    report = {
        "measured_at": datetime.now(UTC).isoformat(),
        "budget_ms": FIRST_TIP_BUDGET_MS,
        "first_visit_median_ms": round(first, 1),
        "returning_visit_median_ms": round(returning, 1),
        "visits": figures,
    }
    artifact("first-tip.json").write_text(json.dumps(report, indent=2))
    print(f"\nfirst tip rendered: {first:.0f} ms (first visit), {returning:.0f} ms (returning)")
    assert first <= FIRST_TIP_BUDGET_MS, report
    assert returning <= FIRST_TIP_BUDGET_MS, report


async def test_not_now_puts_the_tip_away(page: Page, stack: Stack) -> None:
    await sign_in(page, stack)
    await page.hover("#tip")
    await expect(page.locator("#reactions")).to_have_css("opacity", "1")
    async with page.expect_request("**/reaction") as sent:
        await page.get_by_role("button", name="Not now").click()
    assert json.loads((await sent.value).post_data or "") == {"kind": "not_now"}
    text = page.locator("#tip-text")
    await expect(text).not_to_have_text(TIP_TEXT)
    await expect(text).not_to_be_empty()
    # The dismissed tip does not come back on reload.
    await page.reload()
    await expect(text).not_to_be_empty()
    await expect(text).not_to_have_text(TIP_TEXT)
    await page.screenshot(path=artifact("after-not-now.png"))


async def test_a_reaction_by_keyboard_alone(page: Page, stack: Stack) -> None:
    await sign_in(page, stack)
    # Tab reaches the reactions, which show themselves with a visible focus ring.
    done = page.get_by_role("button", name="Done")
    for _ in range(4):
        await page.keyboard.press("Tab")
        if await done.evaluate("e => e === document.activeElement"):
            break
    await expect(done).to_be_focused()
    await expect(page.locator("#reactions")).to_have_css("opacity", "1")
    await expect(done).to_have_css("outline-style", "solid")
    await expect(done).to_have_css("outline-width", "2px")
    await page.screenshot(path=artifact("keyboard-focus.png"))
    # The shortcut "l" likes the tip (it stays); Enter on "Done" ends it.
    async with page.expect_response("**/reaction") as liked:
        await page.keyboard.press("l")
    assert (await (await liked.value).json())["dismissed"] is False
    await expect(page.locator("#like")).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#tip-text")).to_have_text(TIP_TEXT)
    async with page.expect_request("**/reaction") as sent:
        await page.keyboard.press("Enter")
    assert json.loads((await sent.value).post_data or "") == {"kind": "done"}
    await expect(page.locator("#tip-text")).not_to_have_text(TIP_TEXT)


async def test_why_this_tip_shows_the_agents_facts_in_plain_words(page: Page, stack: Stack) -> None:
    await sign_in(page, stack)
    await page.keyboard.press("w")
    why = page.get_by_role("dialog", name="Why this tip")
    await expect(why).to_be_visible()
    await expect(why.get_by_role("heading", name="Time of day")).to_be_visible()
    await expect(why.get_by_text("Your best hour", exact=True)).to_be_visible()
    # An hour of the day in the person's locale, not a raw number or an id.
    hour = why.locator("dt:text-is('Your best hour') + dd")
    await expect(hour).to_have_text(re.compile(r"^\d{1,2}:00\s?[AP]M$"))
    assert await why.get_by_text(re.compile(r"^[0-9a-f]{16,}$")).count() == 0
    await page.screenshot(path=artifact("why.png"))
    await page.keyboard.press("Escape")
    await expect(why).to_be_hidden()


async def test_settings_are_kept_across_a_reload(page: Page, stack: Stack) -> None:
    await sign_in(page, stack)
    await page.keyboard.press("s")
    sheet = page.get_by_role("dialog", name="Settings")
    status = sheet.locator("#settings-status")
    await expect(sheet.get_by_label("From")).to_be_enabled()
    await sheet.get_by_label("From").select_option("21")
    await expect(status).to_have_text("Saved.")
    await sheet.get_by_label("Until").select_option("6")
    await expect(status).to_have_text("Saved.")
    await sheet.get_by_label("Away: pause tips").check()
    await expect(status).to_have_text("Saved.")
    await expect(sheet.locator("#quiet-source")).to_have_text("Set by you.")
    await page.screenshot(path=artifact("settings.png"))

    await page.reload()
    await expect(page.locator("#tip-text")).to_have_text(TIP_TEXT)
    await page.keyboard.press("s")
    await expect(sheet.get_by_label("From")).to_have_value("21")
    await expect(sheet.get_by_label("Until")).to_have_value("6")
    await expect(sheet.get_by_label("Away: pause tips")).to_be_checked()
    await sheet.get_by_label("Away: pause tips").uncheck()
    await expect(status).to_have_text("Saved.")

    # Single-key shortcuts can be turned off on this device (WCAG 2.1.4).
    await sheet.get_by_label("Single-key shortcuts").uncheck()
    await page.keyboard.press("Escape")
    sent: list[str] = []
    page.on("request", lambda r: "/reaction" in r.url and sent.append(r.url))
    await page.keyboard.press("d")
    await page.wait_for_timeout(500)
    assert sent == []
    await expect(page.locator("#tip-text")).to_have_text(TIP_TEXT)


async def test_offline_the_last_tip_stays_with_a_quiet_mark(
    context: BrowserContext, page: Page, stack: Stack
) -> None:
    await sign_in(page, stack)
    await controlled_by_service_worker(page)
    await page.reload()  # now through the service worker, which keeps this tip
    await expect(page.locator("#tip-text")).to_have_text(TIP_TEXT)
    await page.keyboard.press("w")  # other API answers pass through, never kept
    await expect(
        page.get_by_role("dialog", name="Why this tip").locator("dt").first
    ).to_be_visible()
    await page.keyboard.press("Escape")
    cached = await page.evaluate(CACHED_PATHS)
    assert [p for p in cached if p.startswith("/api/")] == ["/api/tip"], cached
    assert "/" in cached and "/static/app.js" in cached, cached
    await page.evaluate("localStorage.clear()")  # only the service worker can answer now

    await context.set_offline(True)
    await page.reload()
    await expect(page.locator("#tip-text")).to_have_text(TIP_TEXT)
    await expect(page.locator("#offline")).to_be_visible()
    await expect(page.locator("#offline")).to_have_text("offline")
    await page.screenshot(path=artifact("offline.png"))

    await context.set_offline(False)
    await page.reload()
    await expect(page.locator("#offline")).to_be_hidden()


async def test_signed_out_the_page_offers_to_sign_in(page: Page, stack: Stack) -> None:
    await page.goto("/")
    await expect(page.locator("#tip-text")).to_have_text("Sign in to see your tip.")
    sign_in_link = page.get_by_role("link", name="Sign in")
    await expect(sign_in_link).to_have_attribute("href", "/auth/login")
    await page.screenshot(path=artifact("signed-out.png"))


async def test_a_used_login_link_says_so(page: Page, stack: Stack) -> None:
    link = await stack.login_link(await stack.new_user(tz="UTC"))
    await page.goto(link)
    await expect(page.locator("#tip-text")).to_contain_text("Nothing now")
    await page.goto("about:blank")  # a full load: the same URL again is only a hash change
    await page.goto(link)
    await expect(page.locator("#tip-text")).to_have_text("This login link is used or expired.")
    await expect(page.get_by_role("link", name="Sign in")).to_be_visible()


async def test_with_nothing_to_say_the_page_is_calm_and_offers_todoist(
    page: Page, stack: Stack
) -> None:
    user_id = await stack.new_user(tz="UTC")
    await page.goto(await stack.login_link(user_id))
    await expect(page.locator("#tip-text")).to_contain_text("Nothing now")
    connect = page.get_by_role("link", name="Connect Todoist")
    await expect(connect).to_have_attribute("href", "/integrations/todoist/connect")
    assert await page.evaluate(LAYOUT_SHIFT) == 0
    await page.screenshot(path=artifact("nothing-now.png"))


async def test_signing_out_ends_the_session_and_forgets_the_tip(page: Page, stack: Stack) -> None:
    await sign_in(page, stack)
    await controlled_by_service_worker(page)
    await page.keyboard.press("s")
    async with page.expect_response("**/auth/logout") as out:
        await page.get_by_role("button", name="Sign out").click()
    assert (await out.value).status == 204
    await expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert await page.evaluate("caches.has('oo-tip')") is False
    assert await page.evaluate("localStorage.getItem('oo:last')") is None
    await page.reload()
    await expect(page.locator("#tip-text")).to_have_text("Sign in to see your tip.")


async def keep_the_tip_offline(page: Page) -> None:
    """Reload through the service worker, so that it keeps this tip for offline use."""
    await controlled_by_service_worker(page)
    await page.reload()
    await expect(page.locator("#tip-text")).to_have_text(TIP_TEXT)
    await until(page, "caches.match('/api/tip', { cacheName: 'oo-tip' }).then(Boolean)")


async def logout_fails(route: Route, how: str) -> None:
    if how == "network":
        await route.abort()
    else:
        problem = {"type": "about:blank", "title": "Internal Server Error", "status": 500}
        await route.fulfill(status=500, json=problem, content_type="application/problem+json")


@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("server", "Sign-out did not go through. Try again."),
        ("network", "Offline: not signed out. Try again when you are back."),
    ],
)
async def test_a_failed_sign_out_says_so_and_forgets_nothing(
    page: Page, stack: Stack, how: str, said: str
) -> None:
    await sign_in(page, stack)
    await keep_the_tip_offline(page)
    # The request is answered (or dropped) here: the server never sees it, the session lives.
    await page.route("**/auth/logout", lambda route: logout_fails(route, how))
    await page.keyboard.press("s")
    sheet = page.get_by_role("dialog", name="Settings")
    async with page.expect_request("**/auth/logout"):
        await sheet.get_by_role("button", name="Sign out").click()
    await expect(sheet.locator("#settings-status")).to_have_text(said)
    await page.screenshot(path=artifact(f"sign-out-failed-{how}.png"))
    await expect(sheet).to_be_visible()
    await expect(page.locator("#tip-text")).to_have_text(TIP_TEXT)
    await expect(page.get_by_role("link", name="Sign in")).to_have_count(0)
    # Nothing was forgotten, since nothing ended.
    assert await page.evaluate("caches.has('oo-tip')") is True
    assert await page.evaluate("localStorage.getItem('oo:last')") is not None
    await page.keyboard.press("Escape")
    await page.reload()
    await expect(page.locator("#tip-text")).to_have_text(TIP_TEXT)

    # Trying again once the server answers signs out.
    await page.unroute("**/auth/logout")
    await page.keyboard.press("s")
    async with page.expect_response("**/auth/logout") as out:
        await sheet.get_by_role("button", name="Sign out").click()
    assert (await out.value).status == 204
    await expect(page.locator("#tip-text")).to_have_text("Signed out.")
    assert await page.evaluate("caches.has('oo-tip')") is False


async def test_a_tip_on_its_way_at_sign_out_is_neither_shown_nor_kept(
    context: BrowserContext, page: Page, stack: Stack
) -> None:
    await sign_in(page, stack)
    await keep_the_tip_offline(page)
    last = json.loads(await page.evaluate("localStorage.getItem('oo:last')"))
    late = {**last, "tip": {**last["tip"], "text": "A tip asked for before signing out."}}
    held: asyncio.Queue[Route] = asyncio.Queue()
    # Routed on the context: the service worker's own fetch, which it would cache, is held.
    await context.route("**/api/tip", held.put)
    await page.hover("#tip")
    await page.get_by_role("button", name="Not now").click()  # the page asks for the next tip
    route = await asyncio.wait_for(held.get(), WAIT_MS / 1000)
    await page.keyboard.press("s")
    async with page.expect_response("**/auth/logout"):
        await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#tip-text")).to_have_text("Signed out.")
    await route.fulfill(status=200, json=late)  # what the server said before the session ended
    await context.unroute("**/api/tip")
    await page.wait_for_timeout(500)
    await expect(page.locator("#tip-text")).to_have_text("Signed out.")
    assert await page.evaluate("localStorage.getItem('oo:last')") is None
    assert "/api/tip" not in await page.evaluate(CACHED_PATHS)


async def test_a_pending_retry_is_dropped_at_sign_out(
    context: BrowserContext, page: Page, stack: Stack
) -> None:
    await sign_in(page, stack)
    asked: list[str] = []

    def record(request: Request) -> None:
        if request.url.endswith("/api/tip"):
            asked.append(request.url)

    page.on("request", record)

    async def busy(route: Route) -> None:
        await route.fulfill(status=503, headers={"Retry-After": "1"}, json={"status": 503})

    # Busy for as long as the test runs: whenever the sign-out comes, a retry is pending.
    await context.route("**/api/tip", busy)
    await page.hover("#tip")
    async with page.expect_response("**/api/tip"):
        await page.get_by_role("button", name="Not now").click()
    await page.keyboard.press("s")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#tip-text")).to_have_text("Signed out.")
    before = len(asked)
    await page.wait_for_timeout(2_500)
    assert len(asked) == before, "the tip was asked for again after signing out"
    await expect(page.locator("#tip-text")).to_have_text("Signed out.")


async def test_deleting_the_account_needs_a_typed_word_and_a_fresh_sign_in(
    page: Page, stack: Stack
) -> None:
    await sign_in(page, stack)
    async with stack.sessions.begin() as db:  # the sign-in is long past
        stale = datetime.now(UTC).replace(year=2000)
        await db.execute(update(Session).values(authenticated_at=stale))
    await page.keyboard.press("s")
    sheet = page.get_by_role("dialog", name="Settings")
    await sheet.get_by_text("Delete my account").click()
    delete = sheet.get_by_role("button", name="Delete for good")
    await expect(delete).to_be_disabled()
    await sheet.get_by_label("Type delete to confirm").fill("delete")
    await expect(delete).to_be_enabled()
    await delete.click()
    await expect(sheet.locator("#settings-status")).to_contain_text("sign in again first")
    await expect(sheet.get_by_role("link", name="Sign in again")).to_be_visible()
    await page.screenshot(path=artifact("delete-needs-sign-in.png"))

    async with stack.sessions.begin() as db:  # signed in again just now
        await db.execute(update(Session).values(authenticated_at=datetime.now(UTC)))
    async with page.expect_response("**/api/account") as answer:
        await delete.click()
    assert (await answer.value).status == 202
    await expect(page.locator("#tip-text")).to_have_text(
        "Your account is being deleted. Thank you for trying oO."
    )


@pytest.mark.parametrize(("width", "height"), [(320, 568), (3840, 2160)])
async def test_small_and_huge_screens_never_scroll_sideways(
    browser: Browser, stack: Stack, width: int, height: int
) -> None:
    ctx = await open_context(browser, stack, viewport={"width": width, "height": height})
    try:
        page = await ctx.new_page()
        await sign_in(page, stack)
        await page.hover("#tip")
        await expect(page.locator("#reactions")).to_have_css("opacity", "1")
        assert await page.evaluate(NO_HORIZONTAL_SCROLL)
        await page.screenshot(path=artifact(f"tip-{width}.png"))
        await page.keyboard.press("s")
        await expect(page.get_by_role("dialog", name="Settings")).to_be_visible()
        assert await page.evaluate(NO_HORIZONTAL_SCROLL)
        await page.screenshot(path=artifact(f"settings-{width}.png"))
    finally:
        await ctx.close()


async def test_reduced_motion_stops_every_transition_and_all_text_is_legible(
    browser: Browser, stack: Stack
) -> None:
    ctx = await open_context(browser, stack, reduced_motion="reduce")
    try:
        page = await ctx.new_page()
        await sign_in(page, stack)
        durations = await page.evaluate(
            "() => [...document.querySelectorAll('*')].map("
            "e => getComputedStyle(e).transitionDuration).filter(d => d !== '0s')"
        )
        assert durations == []
        # With nothing fading, every visible text can be measured: tip, controls, sheets.
        await page.hover("#tip")
        assert await page.evaluate(LOW_CONTRAST) == []
        await page.keyboard.press("w")
        await expect(
            page.get_by_role("dialog", name="Why this tip").locator("dt").first
        ).to_be_visible()
        assert await page.evaluate(LOW_CONTRAST) == []
        await page.keyboard.press("Escape")
        await page.keyboard.press("s")
        await expect(page.locator("#quiet-source")).not_to_be_empty()
        assert await page.evaluate(LOW_CONTRAST) == []
        await page.keyboard.press("Escape")
        await page.emulate_media(reduced_motion="no-preference")
        tip = page.locator("#tip-text")
        assert await tip.evaluate("e => getComputedStyle(e).transitionDuration") != "0s"
    finally:
        await ctx.close()


async def test_on_touch_a_first_tap_wakes_the_controls_and_presses_nothing(
    browser: Browser, stack: Stack
) -> None:
    ctx = await open_context(
        browser, stack, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    try:
        page = await ctx.new_page()
        await sign_in(page, stack)
        reactions = page.locator("#reactions")
        button = await page.get_by_role("button", name="Not now").bounding_box()
        assert button is not None
        at = (button["x"] + button["width"] / 2, button["y"] + button["height"] / 2)
        sent: list[str] = []
        page.on("request", lambda r: "/reaction" in r.url and sent.append(r.url))
        await page.touchscreen.tap(*at)
        await expect(reactions).to_have_css("opacity", "1")
        assert sent == []  # the invisible button was not pressed
        await page.screenshot(path=artifact("touch-awake.png"))
        async with page.expect_request("**/reaction"):
            await page.touchscreen.tap(*at)
    finally:
        await ctx.close()


async def test_the_page_is_an_installable_app(
    context: BrowserContext, page: Page, stack: Stack
) -> None:
    await sign_in(page, stack)
    await controlled_by_service_worker(page)
    cdp = await context.new_cdp_session(page)
    manifest = await cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    found = await cdp.send("Page.getInstallabilityErrors")
    # A test profile is incognito-like; nothing else may stand in the way of installing.
    errors = [e["errorId"] for e in found["installabilityErrors"]]
    assert [e for e in errors if e != "in-incognito"] == [], errors
