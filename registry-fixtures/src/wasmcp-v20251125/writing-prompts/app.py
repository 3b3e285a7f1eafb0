"""mcpkg's own prompts capability (fixture): `greet` (arguments `name`, required, and
`language`) and `summarize` (arguments `text`, required, and `sentences`), each rendered
as one user message; a missing required argument is `-32602`."""

from __future__ import annotations

import json
from typing import Any

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import mcp, server_handler

LANGUAGES = {"en": "English", "fr": "French", "de": "German"}


def argument(name: str, description: str, required: bool) -> mcp.PromptArgument:
    return mcp.PromptArgument(name=name, description=description, required=required, title=None)


PROMPTS = {  # name -> (title, description, arguments)
    "greet": (
        "Greeting",
        "A short, friendly greeting for someone",
        [argument("name", "Who to greet", True), argument("language", "en, fr or de (default en)", False)],
    ),
    "summarize": (
        "Summary",
        "Summarize a text in a few sentences",
        [argument("text", "The text to summarize", True), argument("sentences", "How many (default 2)", False)],
    ),
}


def invalid(message: str) -> Err[mcp.ErrorCode]:
    return Err(mcp.ErrorCode_InvalidParams(mcp.Error(code=-32602, message=message, data=None)))


def render(name: str, arguments: dict[str, Any]) -> str:
    if name == "greet":
        language = LANGUAGES.get(str(arguments.get("language", "en")), "English")
        return f"Write a short, friendly greeting for {arguments['name']} in {language}."
    sentences = str(arguments.get("sentences", "2"))
    return f"Summarize the following text in {sentences} sentences:\n\n{arguments['text']}"


class Prompts(exports.Prompts):
    def list_prompts(
        self, ctx: server_handler.MessageContext, request: mcp.ListPromptsRequest
    ) -> mcp.ListPromptsResult:
        listed = [
            mcp.Prompt(
                name=name,
                options=mcp.PromptOptions(
                    meta=None, arguments=arguments, description=description, title=title, icons=None
                ),
            )
            for name, (title, description, arguments) in PROMPTS.items()
        ]
        return mcp.ListPromptsResult(meta=None, next_cursor=None, prompts=listed)

    def get_prompt(
        self, ctx: server_handler.MessageContext, request: mcp.GetPromptRequest
    ) -> mcp.GetPromptResult | None:
        if request.name not in PROMPTS:
            return None
        try:
            arguments = json.loads(request.arguments) if request.arguments else {}
        except ValueError:
            raise invalid("prompt arguments are not JSON") from None
        if not isinstance(arguments, dict):
            raise invalid("prompt arguments must be an object")
        _, description, declared = PROMPTS[request.name]
        for arg in declared:
            if arg.required and not arguments.get(arg.name):
                raise invalid(f"{request.name} needs the argument {arg.name}")
        text = mcp.ContentBlock_Text(
            mcp.TextContent(text=mcp.TextData_Text(render(request.name, arguments)), options=None)
        )
        return mcp.GetPromptResult(
            meta=None, description=description, messages=[mcp.PromptMessage(content=text, role=mcp.Role.USER)]
        )
