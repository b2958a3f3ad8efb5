"""The fake Graph's container status reads, container expiry and recent-content reads."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.fakes.graph_api import DAY_S, FakeGraphApi

PAGE = "104857392018374"
PAGE_TOKEN = "EAAGpageTokenForReads0123456789abcdefghijklmnop"
IG = "17841400000000009"
IG_TOKEN = "IGAAuserTokenForReads0123456789abcdefghijklmnop"


async def _call(
    session: aiohttp.ClientSession, fake: FakeGraphApi, method: str, path: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    async with session.request(method, f"{fake.base_url}/{path}", params=params) as resp:
        return resp.status, await resp.json()


async def test_container_status_runs_in_progress_finished_published_and_expires() -> None:
    async with FakeGraphApi(polls_until_finished=1) as fake, aiohttp.ClientSession() as s:
        fake.add_ig_user(IG, IG_TOKEN, "reads", "Reads")
        url = fake.add_jpeg("a.jpg", 1080, 1080)
        _, made = await _call(
            s, fake, "POST", f"{IG}/media", image_url=url, caption="Hi", access_token=IG_TOKEN
        )
        cid = made["id"]
        codes = [
            (await _call(s, fake, "GET", cid, fields="status_code", access_token=IG_TOKEN))[1][
                "status_code"
            ]
            for _ in range(2)
        ]
        assert codes == ["IN_PROGRESS", "FINISHED"]
        status, body = await _call(
            s, fake, "POST", f"{IG}/media_publish", creation_id=cid, access_token=IG_TOKEN
        )
        assert status == 200
        _, after = await _call(s, fake, "GET", cid, fields="status_code", access_token=IG_TOKEN)
        assert after["status_code"] == "PUBLISHED"

        _, late = await _call(
            s, fake, "POST", f"{IG}/media", image_url=url, caption="Late", access_token=IG_TOKEN
        )
        fake.advance(DAY_S - 60)
        await _call(s, fake, "GET", late["id"], fields="status_code", access_token=IG_TOKEN)
        _, fresh = await _call(
            s, fake, "GET", late["id"], fields="status_code", access_token=IG_TOKEN
        )
        assert fresh["status_code"] == "FINISHED"
        fake.advance(120)
        _, old = await _call(
            s, fake, "GET", late["id"], fields="status_code", access_token=IG_TOKEN
        )
        assert old["status_code"] == "EXPIRED"
        status, err = await _call(
            s, fake, "POST", f"{IG}/media_publish", creation_id=late["id"], access_token=IG_TOKEN
        )
        assert status == 400 and err["error"]["error_subcode"] == 2207020
        # A published container never expires.
        _, still = await _call(s, fake, "GET", cid, fields="status_code", access_token=IG_TOKEN)
        assert still["status_code"] == "PUBLISHED"
        _, media = await _call(
            s,
            fake,
            "GET",
            f"{IG}/media",
            fields="id,caption,permalink,timestamp",
            access_token=IG_TOKEN,
        )
        assert [m["id"] for m in media["data"]] == [body["id"]]
        assert media["data"][0]["caption"] == "Hi"
        assert media["data"][0]["permalink"].startswith("https://www.instagram.com/p/")
        assert media["data"][0]["timestamp"].endswith("+0000")


async def test_page_posts_and_photos_newest_first_with_since_and_paging() -> None:
    async with FakeGraphApi() as fake, aiohttp.ClientSession() as s:
        fake.add_page(PAGE, PAGE_TOKEN, "Reads")
        url = fake.add_jpeg("b.jpg", 1080, 1080)
        await _call(s, fake, "POST", f"{PAGE}/feed", message="first", access_token=PAGE_TOKEN)
        fake.advance(100)
        cut = int(fake.now())
        _, photo = await _call(
            s, fake, "POST", f"{PAGE}/photos", url=url, caption="second", access_token=PAGE_TOKEN
        )
        fake.advance(100)
        await _call(s, fake, "POST", f"{PAGE}/feed", message="third", access_token=PAGE_TOKEN)
        fields = "id,message,permalink_url,created_time"
        _, posts = await _call(
            s, fake, "GET", f"{PAGE}/posts", fields=fields, access_token=PAGE_TOKEN
        )
        assert [p["message"] for p in posts["data"]] == ["third", "second", "first"]
        assert posts["data"][1]["id"] == photo["post_id"]
        _, since = await _call(
            s, fake, "GET", f"{PAGE}/posts", fields=fields, since=cut, access_token=PAGE_TOKEN
        )
        assert [p["message"] for p in since["data"]] == ["third", "second"]
        _, one = await _call(
            s, fake, "GET", f"{PAGE}/posts", fields=fields, limit=1, access_token=PAGE_TOKEN
        )
        assert len(one["data"]) == 1 and "next" in one["paging"]
        _, rest = await _call(
            s,
            fake,
            "GET",
            f"{PAGE}/posts",
            fields=fields,
            limit=5,
            after=one["paging"]["cursors"]["after"],
            access_token=PAGE_TOKEN,
        )
        assert [p["message"] for p in rest["data"]] == ["second", "first"]
        _, photos = await _call(
            s,
            fake,
            "GET",
            f"{PAGE}/photos",
            type="uploaded",
            fields="id,name",
            access_token=PAGE_TOKEN,
        )
        assert photos["data"] == [{"id": photo["id"], "name": "second"}]
        status, _ = await _call(s, fake, "GET", f"{PAGE}/posts", access_token=IG_TOKEN + "x")
        assert status == 400
