"""Photos and link previews in the fake Bot API: sendPhoto, editMessageCaption, preview options.

Telegram's rules as the fake applies them: ``photo`` is required and, given as a string, must be
an http(s) URL here (the fake keeps no files, so a file_id is "wrong file identifier"); a URL the
test marked with ``refuse_photo`` gets the error Telegram gives for a page it cannot use ("wrong
type of the web page content" unless told otherwise). A caption is parsed like a message text
(parse_mode HTML with the same checks) and may show at most 1,024 UTF-16 units after parsing:
"message caption is too long". ``editMessageText`` of a photo and ``editMessageCaption`` of a
text fail as Telegram's do. ``link_preview_options`` must be an object of Telegram's fields
with the right types, an http(s) ``url``, and not both small and large media preferred.
"""

from __future__ import annotations

from .entities import ParsedText, utf16_len
from .params import int_param, json_param, require_chat
from .records import NOT_MODIFIED, ApiError, SentMessage

MAX_CAPTION_UTF16 = 1024
_PREVIEW_FIELDS = {
    "is_disabled": bool,
    "url": str,
    "prefer_small_media": bool,
    "prefer_large_media": bool,
    "show_above_text": bool,
}


class PhotoMethods:
    """sendPhoto and editMessageCaption, and the checks of link_preview_options."""

    # -- the test's side ---------------------------------------------------------------------

    def refuse_photo(
        self, url: str, description: str = "Bad Request: wrong type of the web page content"
    ) -> None:
        """Answer 400 with ``description`` for every sendPhoto of this URL."""
        with self._cond:
            self._refused_photos()[url] = description

    def _refused_photos(self) -> dict[str, str]:
        if not hasattr(self, "_refused"):
            self._refused: dict[str, str] = {}
        return self._refused

    # -- methods -----------------------------------------------------------------------------

    def _send_photo(self, p: dict, chat: int | None) -> dict:
        chat = require_chat(chat)
        photo = p.get("photo")
        if not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        parsed = self._parse_caption(p)
        with self._cond:
            refused = self._refused_photos().get(photo)
            if refused:
                raise ApiError(400, refused)
            self._check_can_post(chat)
            self._throttle(chat)
            self._before_send(chat)
            message_id = self._new_id(chat)
            message = self._photo_object(chat, message_id, parsed, p)
            self._live[(chat, message_id)] = {
                "message": message,
                "raw": p.get("caption") or "",
                "markup": None,
            }
            reply = (json_param(p, "reply_parameters") or {}).get("message_id")
            self._messages.append(SentMessage(
                chat_id=p["chat_id"], chat=chat, message_id=message_id, text=p.get("caption") or "",
                plain=parsed.text, parse_mode=p.get("parse_mode"),
                message_thread_id=int_param(p, "message_thread_id"),
                disable_notification=str(p.get("disable_notification")).lower() in ("true", "1"),
                link_preview_options=None, reply_to_message_id=reply, date=message["date"],
                at=self._clock(), photo=photo))  # fmt: skip
            return message

    def _edit_message_caption(self, p: dict, chat: int | None) -> dict:
        chat, message_id = self._edit_target(p, chat)
        parsed = self._parse_caption(p)
        with self._cond:
            old = self._live_message(chat, message_id)["message"]
            if "photo" not in old:
                raise ApiError(400, "Bad Request: there is no caption in the message to edit")
            if (old.get("caption", ""), old.get("caption_entities", [])) == (
                parsed.text,
                list(parsed.entities),
            ):
                raise ApiError(400, NOT_MODIFIED)
            self._throttle(chat)
            message = self._photo_object(chat, message_id, parsed, p) | {
                "date": old["date"],
                "edit_date": int(self._now()),
                "photo": old["photo"],
            }
            caption = p.get("caption") or ""
            self._keep_edit(chat, message_id, message, raw=caption, markup=None, parsed=parsed, p=p)
            return message

    # -- helpers -----------------------------------------------------------------------------

    def _parse_caption(self, p: dict) -> ParsedText:
        """Validate a caption and its parse_mode as Telegram does; an empty caption is allowed."""
        text, mode = p.get("caption") or "", (p.get("parse_mode") or "").lower()
        if mode not in ("", "html", "markdown", "markdownv2"):
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        parsed = self._parse_html(text) if mode == "html" and text else ParsedText(text)
        if utf16_len(parsed.text) > MAX_CAPTION_UTF16:
            raise ApiError(400, "Bad Request: message caption is too long")
        return parsed

    def _photo_object(self, chat: int, message_id: int, parsed: ParsedText, p: dict) -> dict:
        chat_obj = self._chat_object(chat)
        sizes = [
            {"file_id": f"photo-{chat}-{message_id}-{side}",
             "file_unique_id": f"u{message_id}{side}", "width": side, "height": side * 9 // 16}
            for side in (320, 1280)
        ]  # fmt: skip
        message = {"message_id": message_id, "date": int(self._now()), "chat": chat_obj,
                   "photo": sizes}  # fmt: skip
        message |= (
            {"sender_chat": chat_obj}
            if chat_obj["type"] == "channel"
            else {"from": dict(self.bot_user)}
        )
        if parsed.text:
            message["caption"] = parsed.text
        if parsed.entities:
            message["caption_entities"] = list(parsed.entities)
        thread = int_param(p, "message_thread_id")
        return message | ({"message_thread_id": thread} if thread else {})


def check_preview(p: dict) -> None:
    """Refuse link_preview_options Telegram would refuse: not an object, wrong types, bad URL."""
    options = json_param(p, "link_preview_options")
    if options is None:
        return
    if not isinstance(options, dict):
        raise ApiError(400, "Bad Request: can't parse link_preview_options JSON object")
    for name, value in options.items():
        kind = _PREVIEW_FIELDS.get(name)
        if kind is None or not isinstance(value, kind):
            raise ApiError(400, f'Bad Request: field "{name}" of link_preview_options is invalid')
    url = options.get("url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ApiError(400, "Bad Request: link preview URL is invalid")
    if options.get("prefer_small_media") and options.get("prefer_large_media"):
        raise ApiError(400, "Bad Request: can't prefer both small and large media")
