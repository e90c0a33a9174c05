"""Deterministic replies and the emulator's token definition.

Tokens: one CJK character = 1 token, one run of ASCII letters/digits = 1 token, any other
non-space character (punctuation) = 1 token; whitespace belongs to the token after it.
Replies are seeded by a hash of model + sys_prompt + prompt, Chinese when the prompt holds
CJK characters, English otherwise. Directives (for tutorials and tests):

* last prompt line ``echo: TEXT``  -> the reply is exactly TEXT (stripped)
* the word ``json`` in the prompt -> one sentence, then a fenced ```json block
* the word ``code`` in the prompt -> one sentence, then a fenced ```python block
"""

from __future__ import annotations

import hashlib
import json
import random
import re

_TOKEN = re.compile(r"[A-Za-z0-9]+|\S")
_PIECE = re.compile(r"\s*(?:[A-Za-z0-9]+|\S)")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_JSON = re.compile(r"(?<![A-Za-z])json(?![A-Za-z])", re.IGNORECASE)
_CODE = re.compile(r"(?<![A-Za-z])code(?![A-Za-z])", re.IGNORECASE)

ZH_SUBJECTS = ("我", "这个问题", "元境平台", "模型", "我们", "这段文字", "你的想法", "每个任务")
ZH_VERBS = ("可以帮助", "正在分析", "能够生成", "希望理解", "认真考虑", "仔细描述", "快速回答")
ZH_OBJECTS = ("一个简单的例子", "视频和图片", "你的问题", "有趣的故事", "清晰的步骤", "更多细节")
ZH_OPENERS = ("首先", "然后", "同时", "另外", "其实", "当然")
EN_SUBJECTS = ("The model", "This answer", "Our platform", "A good prompt", "Every request")
EN_VERBS = ("can explain", "will describe", "helps with", "often improves", "carefully checks")
EN_OBJECTS = ("the main idea", "a short example", "each small detail", "your next question")
EN_TAILS = ("", " in plain words", " step by step", " for you", " without any fuss")


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def split_tokens(text: str) -> list[str]:
    """Pieces that join back to ``text`` (trailing whitespace excepted), one per token."""
    return _PIECE.findall(text)


def is_chinese(text: str) -> bool:
    return _CJK.search(text) is not None


def _rng(*parts: str) -> random.Random:
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _zh_sentence(rng: random.Random) -> str:
    opener = rng.choice(ZH_OPENERS) + "，" if rng.random() < 0.4 else ""
    end = rng.choice("。。，！")
    return opener + rng.choice(ZH_SUBJECTS) + rng.choice(ZH_VERBS) + rng.choice(ZH_OBJECTS) + end


def _en_sentence(rng: random.Random) -> str:
    tail = rng.choice(EN_TAILS)
    return f"{rng.choice(EN_SUBJECTS)} {rng.choice(EN_VERBS)} {rng.choice(EN_OBJECTS)}{tail}."


def prose(rng: random.Random, chinese: bool, length: int) -> list[str]:
    """Exactly ``length`` token pieces of prose ending with sentence punctuation."""
    pieces: list[str] = []
    sentence = _zh_sentence if chinese else _en_sentence
    while len(pieces) < length:
        text = sentence(rng)
        if pieces and not chinese:
            text = " " + text
        pieces.extend(split_tokens(text))
    del pieces[length:]
    if pieces and pieces[-1].strip() not in ("。", "！", "."):
        # A reply that stops mid-clause reads like a bug, so the last token becomes a stop.
        pieces[-1] = "。" if chinese else "."
    return pieces


def _json_reply(rng: random.Random, chinese: bool) -> str:
    obj = {
        "answer": rng.choice(ZH_OBJECTS if chinese else EN_OBJECTS),
        "confidence": round(0.5 + rng.random() / 2, 2),
        "tags": rng.sample(["demo", "yuanjing", "emulator", "notebook", "video"], 2),
    }
    lead = "下面是JSON结果：" if chinese else "Here is the JSON:"
    body = json.dumps(obj, ensure_ascii=False, indent=2)
    return f"{lead}\n```json\n{body}\n```"


def _code_reply(rng: random.Random, chinese: bool) -> str:
    n = rng.randint(2, 9)
    lead = "下面是一段Python代码：" if chinese else "Here is some Python code:"
    code = f"def scale(values, factor={n}):\n    return [v * factor for v in values]"
    return f"{lead}\n```python\n{code}\n```"


def reply(model: str, sys_prompt: str, prompt: str, max_tokens: int | None) -> list[str]:
    """The content token pieces of one chat reply (directives first, else prose)."""
    rng = _rng(model, sys_prompt, prompt)
    chinese = is_chinese(prompt)
    lines = prompt.rstrip().splitlines()
    last = lines[-1].lstrip() if lines else ""
    if last.startswith("echo:"):
        pieces = split_tokens(last[len("echo:") :].strip())
    elif _JSON.search(prompt):
        pieces = split_tokens(_json_reply(rng, chinese))
    elif _CODE.search(prompt):
        pieces = split_tokens(_code_reply(rng, chinese))
    else:
        # With max_tokens the reply fills the budget, so benchmarks can ask for long streams.
        length = max_tokens if max_tokens is not None else rng.randint(30, 80)
        pieces = prose(rng, chinese, length)
    if max_tokens is not None:
        del pieces[max_tokens:]
    return pieces


def reasoning(model: str, sys_prompt: str, prompt: str) -> list[str]:
    """12-30 tokens of "thinking" for reasoning models, streamed before the answer."""
    rng = _rng("reasoning", model, sys_prompt, prompt)
    chinese = is_chinese(prompt)
    opener = "嗯，用户的问题需要想一想。" if chinese else "Okay, let me think about this."
    body = prose(rng, chinese, rng.randint(12, 30))
    if not chinese:
        body[0] = " " + body[0]
    return split_tokens(opener) + body
