"""The provider fakes speak the wire format of PROVIDERS.md: envelopes, cursors, 400s, errors."""

import secrets
import warnings
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.fakes.google import fake_google
from tests.fakes.oidc import fake_oidc, signing_key
from tests.fakes.todoist import FakeTodoist, all_day, fake_todoist, s256

TOKEN = "tdt-test-token-0b6f"
T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
ERROR_KEYS = {"error", "error_code", "error_extra", "error_tag", "http_code"}


def api(fake: FakeTodoist, token: str = TOKEN) -> httpx.Client:
    return httpx.Client(
        base_url=fake.api_base,
        headers={"Authorization": f"Bearer {token}"},
        trust_env=False,
        timeout=5,
    )


def query_of(response: httpx.Response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response.headers["location"]).query)


def test_todoist_pages_tasks_with_a_cursor_bound_to_the_other_parameters() -> None:
    with fake_todoist() as fake:
        acct = fake.account(token=TOKEN)
        for i in range(5):
            acct.task(f"task {i}")
        with api(fake) as http:
            first = http.get("/tasks", params={"limit": 2}).json()
            assert set(first) == {"results", "next_cursor"} and len(first["results"]) == 2
            cursor = first["next_cursor"]
            ids = [t["id"] for t in first["results"]]
            while cursor:
                page = http.get("/tasks", params={"limit": 2, "cursor": cursor}).json()
                ids += [t["id"] for t in page["results"]]
                cursor = page["next_cursor"]
            assert ids == [t["id"] for t in acct.tasks]

            changed = http.get("/tasks", params={"limit": 3, "cursor": first["next_cursor"]})
            tampered = http.get("/tasks", params={"limit": 2, "cursor": first["next_cursor"][1:]})
            too_many = http.get("/tasks", params={"limit": 201})
        for bad in (changed, tampered, too_many):
            assert bad.status_code == 400
            assert set(bad.json()) == ERROR_KEYS and bad.json()["http_code"] == 400


def test_todoist_completed_items_use_items_and_windows_of_three_months() -> None:
    with fake_todoist() as fake:
        acct = fake.account(token=TOKEN)
        acct.complete("with fraction", at=T0, due=all_day(date(2026, 1, 9)))
        acct.complete("without", at=T0 + timedelta(days=1), fractional=False)
        path = "/tasks/completed/by_completion_date"
        with api(fake) as http:
            ok = http.get(
                path, params={"since": "2026-01-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"}
            )
            too_long = http.get(
                path, params={"since": "2026-01-01T00:00:00Z", "until": "2026-04-02T00:00:00Z"}
            )
            not_utc = http.get(
                path, params={"since": "2026-01-01T00:00:00", "until": "2026-02-01T00:00:00Z"}
            )
    assert set(ok.json()) == {"items", "next_cursor"} and ok.json()["next_cursor"] is None
    stamps = [t["completed_at"] for t in ok.json()["items"]]
    assert stamps == ["2026-01-11T09:00:00Z", "2026-01-10T09:00:00.000000Z"]
    assert ok.json()["items"][1]["due"] == {
        "date": "2026-01-09",
        "timezone": None,
        "string": "2026-01-09",
        "lang": "en",
        "is_recurring": False,
    }
    assert too_long.json()["error_extra"]["argument"] == "until"
    assert not_utc.status_code == 400


def test_todoist_activities_show_each_recurring_completion() -> None:
    with fake_todoist() as fake:
        acct = fake.account(token=TOKEN)
        task = acct.recurring(
            "Stretch", due=all_day(date(2026, 1, 12)), completions=[T0, T0 + timedelta(days=1)]
        )
        with api(fake) as http:
            params = {"object_event_types": '["item:completed"]', "limit": 100}
            body = http.get("/activities", params=params).json()
            over = http.get("/activities", params={**params, "limit": 101})
    assert [e["object_id"] for e in body["results"]] == [task["id"], task["id"]]
    assert body["results"][0]["event_date"] > body["results"][1]["event_date"]  # newest first
    assert over.status_code == 400
    assert acct.completed == [] and task["due"]["is_recurring"] is True


def test_todoist_injects_429_with_retry_after_and_refuses_unknown_tokens() -> None:
    with fake_todoist() as fake:
        fake.account(token=TOKEN)
        fake.fail_with(429, retry_after=66, path="/api/v1/user")
        with api(fake) as http:
            limited = http.get("/user")
            then = http.get("/user")
        with api(fake, token="nope") as http:
            unknown = http.get("/projects")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "66"
    assert limited.json()["error_extra"]["retry_after"] == 66
    assert limited.json()["error_tag"] == "LIMITS_REACHED"
    assert then.json()["tz_info"]["timezone"] == "UTC" and "joined_at" in then.json()
    assert unknown.status_code == 401 and set(unknown.json()) == ERROR_KEYS


async def test_todoist_oauth_issues_a_bare_token_once_per_code_and_revokes_it() -> None:
    async with fake_todoist() as fake:
        fake.authorize_as = fake.account(token=TOKEN)
        verifier = secrets.token_urlsafe(48)
        async with httpx.AsyncClient(trust_env=False) as http:
            params = {
                "client_id": fake.client_id,
                "scope": "data:read",
                "state": "st-1",
                "code_challenge": s256(verifier),
                "code_challenge_method": "S256",
            }
            back = await http.get(fake.authorize_url, params=params)
            code = query_of(back)["code"][0]
            assert query_of(back)["state"] == ["st-1"]
            form = {"client_id": fake.client_id, "client_secret": fake.client_secret, "code": code}
            bad_pkce = await http.post(fake.token_url, data={**form, "code_verifier": "x" * 43})
            back = await http.get(fake.authorize_url, params=params)
            form["code"] = query_of(back)["code"][0]
            token = await http.post(fake.token_url, data={**form, "code_verifier": verifier})
            reused = await http.post(fake.token_url, data={**form, "code_verifier": verifier})
            access = token.json()["access_token"]
            user = await http.get(
                f"{fake.api_base}/user", headers={"Authorization": f"Bearer {access}"}
            )
            revoked = await http.post(
                f"{fake.api_base}/revoke",
                data={"token": access, "token_type_hint": "access_token"},
                auth=(fake.client_id, fake.client_secret),
            )
            after = await http.get(
                f"{fake.api_base}/user", headers={"Authorization": f"Bearer {access}"}
            )
            fake.deny()
            denied = await http.get(fake.authorize_url, params=params)
    assert bad_pkce.status_code == 400
    assert (
        set(token.json()) == {"access_token", "token_type"}
        and token.json()["token_type"] == "Bearer"
    )
    assert reused.status_code == 400
    assert user.json()["id"] == fake.authorize_as.id
    assert revoked.status_code == 200 and after.status_code == 401
    assert query_of(denied) == {"error": ["access_denied"]}  # no state echoed on errors


def test_todoist_delete_access_tokens_kills_the_token() -> None:
    with fake_todoist() as fake:
        fake.account(token=TOKEN)
        with api(fake) as http:
            params = {"client_id": fake.client_id, "client_secret": fake.client_secret}
            gone = http.delete("/access_tokens", params={**params, "access_token": TOKEN})
            assert gone.status_code == 200
            assert http.get("/user").status_code == 401
    assert fake.revoked == [TOKEN]


async def _login(idp_url: str, http: httpx.AsyncClient, **extra: str) -> dict[str, list[str]]:
    params = {
        "client_id": "oo-test-client",
        "redirect_uri": "http://127.0.0.1/auth/callback",
        "response_type": "code",
        "scope": "openid email profile",
        "state": "s-1",
        "nonce": "n-1",
        **extra,
    }
    return query_of(await http.get(f"{idp_url}/authorize", params=params))


async def test_oidc_issues_a_signed_id_token_after_pkce_and_refreshes() -> None:
    async with fake_oidc() as idp, httpx.AsyncClient(trust_env=False) as http:
        meta = (await http.get(idp.discovery_url)).json()
        assert meta["issuer"] == idp.url and meta["token_endpoint"] == idp.token_url
        verifier = secrets.token_urlsafe(48)
        back = await _login(
            idp.url, http, code_challenge=s256(verifier), code_challenge_method="S256"
        )
        form = {
            "grant_type": "authorization_code",
            "code": back["code"][0],
            "redirect_uri": "http://127.0.0.1/auth/callback",
            "code_verifier": verifier,
        }
        auth = (idp.client_id, idp.client_secret)
        tokens = (await http.post(idp.token_url, data=form, auth=auth)).json()
        keys = KeySet.import_key_set((await http.get(meta["jwks_uri"])).json())
        claims = jwt.decode(tokens["id_token"], keys).claims
        info = await http.get(
            idp.userinfo_url, headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        refreshed = (await http.post(idp.token_url, data=refresh, auth=auth)).json()
    assert back["state"] == ["s-1"]
    assert claims["iss"] == idp.url and claims["aud"] == idp.client_id
    assert claims["nonce"] == "n-1" and claims["sub"] == "sub-1"
    assert claims["exp"] > claims["iat"] and claims["email"] == "person@example.com"
    assert info.json()["sub"] == "sub-1"
    assert refreshed["expires_in"] == 3599 and "refresh_token" not in refreshed


async def test_oidc_logs_in_two_subjects_with_one_email_and_injects_errors() -> None:
    async with fake_oidc() as idp, httpx.AsyncClient(trust_env=False) as http:
        auth = (idp.client_id, idp.client_secret)
        subjects = []
        for sub in ("sub-a", "sub-b"):
            idp.login_as(sub, "same@example.com")
            code = (await _login(idp.url, http))["code"][0]
            form = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://127.0.0.1/auth/callback",
            }
            id_token = (await http.post(idp.token_url, data=form, auth=auth)).json()["id_token"]
            subjects.append(jwt.decode(id_token, KeySet([signing_key()])).claims["sub"])
        bad_verifier = await _login(
            idp.url, http, code_challenge=s256("v" * 43), code_challenge_method="S256"
        )
        form = {
            "grant_type": "authorization_code",
            "code": bad_verifier["code"][0],
            "redirect_uri": "http://127.0.0.1/auth/callback",
            "code_verifier": "w" * 43,
        }
        pkce = await http.post(idp.token_url, data=form, auth=auth)
        idp.deny()
        denied = await _login(idp.url, http)
        idp.fail_with(503, path="/revoke")
        revoke_down = await http.post(idp.revoke_url, data={"token": "x"})
        revoke_ok = await http.post(idp.revoke_url, data={"token": "x"})
    assert subjects == ["sub-a", "sub-b"]
    assert pkce.status_code == 400 and pkce.json()["error"] == "invalid_grant"
    assert denied == {"error": ["access_denied"], "state": ["s-1"]}
    assert revoke_down.status_code == 503 and revoke_ok.status_code == 200


def test_google_refresh_keeps_the_refresh_token_and_invalid_grant_is_injectable() -> None:
    with fake_google() as google, httpx.Client(trust_env=False) as http:
        rt = google.grant()
        form = {
            "grant_type": "refresh_token",
            "refresh_token": rt,
            "client_id": google.client_id,
            "client_secret": google.client_secret,
        }
        fresh = http.post(google.token_url, data=form).json()
        google.rotate_refresh_tokens = True
        rotated = http.post(google.token_url, data=form).json()
        old_again = http.post(google.token_url, data=form)
        google.fail_token("invalid_grant")
        dead = http.post(google.token_url, data={**form, "refresh_token": rotated["refresh_token"]})
        google.fail_with(503, path="/revoke")
        revoke = [
            http.post(google.revoke_url, data={"token": rotated["refresh_token"]}) for _ in range(2)
        ]
    assert fresh["expires_in"] == 3599 and "refresh_token" not in fresh
    assert rotated["refresh_token"] != rt
    assert old_again.status_code == 400 and old_again.json()["error"] == "invalid_grant"
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    assert [r.status_code for r in revoke] == [503, 200]
    assert google.refresh_calls == 4 and rotated["refresh_token"] in google.revoked


async def test_google_refresh_through_authlib() -> None:
    # authlib prefers httpx2 and says so on import, through a filter of its own set first.
    import authlib.deprecate  # noqa: F401

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from authlib.integrations.httpx_client import AsyncOAuth2Client

    async with fake_google() as google:
        rt = google.grant()
        async with AsyncOAuth2Client(
            google.client_id,
            google.client_secret,
            token_endpoint_auth_method="client_secret_post",
            trust_env=False,
        ) as client:
            token = await client.refresh_token(google.token_url, refresh_token=rt)
    assert token["access_token"].startswith("ya29.") and token["refresh_token"] == rt
    assert google.calls_to("/token")[0].body["client_secret"] == google.client_secret
