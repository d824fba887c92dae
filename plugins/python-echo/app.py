"""A wxhost plugin written in Python, built with componentize-py.

- A text message gets ``<prefix>: <content>`` back, where ``prefix`` is the
  plugin's ``prefix`` config value (a JSON string, "python-echo" when unset).
- A menu click gets ``<prefix>: click <key>``.
- Everything else gets no reply and passes to the next plugin.

Every reply also writes one ``info`` record with the reply's length.
"""

import json

import wit_world
from wit_world.imports import config, log, types


def prefix() -> str:
    raw = config.get("prefix")
    if raw is None:
        return "python-echo"
    value = json.loads(raw)
    return value if isinstance(value, str) else "python-echo"


def reply_text(event: types.Event):
    payload = event.payload
    if isinstance(payload, types.Payload_Message) and isinstance(
        payload.value, types.Message_Text
    ):
        return f"{prefix()}: {payload.value.value.content}"
    if isinstance(payload, types.Payload_Event) and isinstance(
        payload.value, types.EventKind_Click
    ):
        return f"{prefix()}: click {payload.value.value}"
    return None


class WitWorld(wit_world.WitWorld):
    def handle(self, event: types.Event) -> list[types.Directive]:
        text = reply_text(event)
        if text is None:
            return [types.Directive_NoReply()]
        log.write(log.Level.INFO, "python-echo replied", [("chars", str(len(text)))])
        return [types.Directive_Reply(types.Reply_Text(text))]
