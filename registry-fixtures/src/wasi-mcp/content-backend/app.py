"""A wasi-mcp backend with resources, a resource template, prompts and completions,
following mcpkg's entry-point convention (docs/wasi-mcp.md)."""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import handlers
from wit_world.imports import capabilities, content, runtime, types

README = "# Fixture notes\n\nServed by a wasi-mcp backend.\n"
NOTES = {"monday": "Water the plants.", "tuesday": "Call the plumber."}
STYLES = ["formal", "friendly", "pirate"]


def error(code: types.ErrorCode, message: str) -> Err[types.Error]:
    return Err(types.Error(code, message, None))


def text_block(value: str) -> content.ContentBlock:
    return content.ContentBlock_Text(content.TextContent("text", value, None))


class Run(exports.Run):
    def run(self) -> None:
        caps = capabilities.ServerCapabilities(
            experimental=None,
            logging=None,
            completions=capabilities.CompletionsCapability(None),
            prompts=capabilities.PromptsCapability(list_changed=False),
            resources=capabilities.ResourcesCapability(subscribe=False, list_changed=False),
            tools=None,
            sampling=None,
            elicitation=None,
        )
        runtime.register_server(runtime.ServerInfo("content-backend", "0.2.0", caps, None))
        runtime.register_resources(
            [
                runtime.ResourceDefinition(
                    "fixture://readme", "readme", "Read me", "The notes' README", "text/markdown", len(README)
                ),
                runtime.ResourceDefinition("fixture://config.json", "config", None, None, "application/json", None),
            ]
        )
        runtime.register_resource_templates(
            [runtime.ResourceTemplate("fixture://notes/{day}", "note", None, "A note for one day", "text/plain")]
        )
        runtime.register_prompts(
            [
                runtime.PromptDefinition(
                    "greet",
                    "Greeting",
                    "Greet someone in a style",
                    [
                        runtime.PromptArgument("name", "Who to greet", True),
                        runtime.PromptArgument("style", "One of " + ", ".join(STYLES), False),
                    ],
                )
            ]
        )
        runtime.serve()


class Handlers(exports.Handlers):
    def call_tool(self, name: str, arguments: bytes) -> handlers.ToolResult:
        raise error(types.ErrorCode.TOOL_NOT_FOUND, f"no tool {name}")

    def read_resource(self, uri: str) -> handlers.ResourceContents:
        if uri == "fixture://readme":
            return handlers.ResourceContents([text_block(README)])
        if uri == "fixture://config.json":
            body = json.dumps({"days": sorted(NOTES)})
            embedded = content.EmbeddedResource("resource", uri, "application/json", body, None, None)
            return handlers.ResourceContents([content.ContentBlock_EmbeddedResource(embedded)])
        day = uri.removeprefix("fixture://notes/")
        if uri.startswith("fixture://notes/") and day in NOTES:
            return handlers.ResourceContents([text_block(NOTES[day])])
        raise error(types.ErrorCode.RESOURCE_NOT_FOUND, f"no resource {uri}")

    def get_prompt(self, name: str, arguments: bytes | None) -> handlers.PromptContents:
        if name != "greet":
            raise error(types.ErrorCode.PROMPT_NOT_FOUND, f"no prompt {name}")
        args = json.loads(arguments) if arguments else {}
        if "name" not in args:
            raise error(types.ErrorCode.INVALID_PARAMS, "the greet prompt needs a name")
        style = args.get("style", "friendly")
        message = content.PromptMessage(
            content.MessageRole.USER, text_block(f"Greet {args['name']} in a {style} style.")
        )
        return handlers.PromptContents([message])

    def handle_subscribe(self, uri: str) -> None:
        raise error(types.ErrorCode.UNSUPPORTED_OPERATION, "no subscriptions")

    def handle_unsubscribe(self, uri: str) -> None:
        raise error(types.ErrorCode.UNSUPPORTED_OPERATION, "no subscriptions")

    def handle_complete(self, ref_type: handlers.CompletionRefType, ref_value: str) -> list[handlers.Completion]:
        if ref_type == handlers.CompletionRefType.PROMPT_NAME:
            return [handlers.Completion(s, None) for s in STYLES if s.startswith(ref_value)]
        if ref_type == handlers.CompletionRefType.RESOURCE_URI:
            return [handlers.Completion(d, None) for d in sorted(NOTES) if d.startswith(ref_value)]
        return []

    def handle_elicit(self, message: str, fields: list[handlers.ElicitationField]) -> handlers.ElicitationResponse:
        raise error(types.ErrorCode.UNSUPPORTED_OPERATION, "no elicitation")
