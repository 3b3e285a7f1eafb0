"""The "everything" server of the MCP conformance suite (npm `@modelcontextprotocol/conformance`
0.1.16, `conformance server --url ...`) as a wasi-mcp backend: every tool, resource, template,
prompt and completion its server scenarios call that the `wasi:mcp@0.1.0-preview2` contract can
express, following mcpkg's entry-point convention (docs/wasi-mcp.md).

The names and the expected answers are facts taken from the suite's scenarios (what each one
asks for and checks); the code is mcpkg's own. Not here, because the contract cannot express
them: audio content (no `audio` case in `content-block`), and the tools that send the client a
request (`sampling/createMessage`, `elicitation/create`): a backend has no way to do that.
"""

import json
import time

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import handlers
from wit_world.imports import capabilities, content, runtime, types

# a 1x1 red PNG
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
NO_ARGUMENTS = {"type": "object", "properties": {}}
JSON_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
    "additionalProperties": False,
}
TOOLS = {
    "test_simple_text": "Returns a simple text answer",
    "test_image_content": "Returns an image (a 1x1 red PNG)",
    "test_embedded_resource": "Returns an embedded text resource",
    "test_multiple_content_types": "Returns text, an image and an embedded resource",
    "test_tool_with_logging": "Sends three info log messages while it runs",
    "test_tool_with_progress": "Reports progress 0, 50 and 100 of 100 while it runs",
    "test_error_handling": "Always answers with a tool error (isError)",
    "json_schema_2020_12_tool": "Tool with JSON Schema 2020-12 features",
}
STATIC_TEXT = "This is the content of the static text resource."
WATCHED = "test://watched-resource"
COMPLETIONS = ["paris", "park", "party"]
SUBSCRIBED: set[str] = set()


def error(code: types.ErrorCode, message: str) -> Err[types.Error]:
    return Err(types.Error(code, message, None))


def text(value: str) -> content.ContentBlock:
    return content.ContentBlock_Text(content.TextContent("text", value, None))


def image() -> content.ContentBlock:
    return content.ContentBlock_Image(content.ImageContent("image", PNG, "image/png", None))


def embedded(uri: str, mime_type: str, body: str | None = None, blob: str | None = None) -> content.ContentBlock:
    resource = content.EmbeddedResource("resource", uri, mime_type, body, blob, None)
    return content.ContentBlock_EmbeddedResource(resource)


def user(block: content.ContentBlock) -> content.PromptMessage:
    return content.PromptMessage(content.MessageRole.USER, block)


class Run(exports.Run):
    def run(self) -> None:
        caps = capabilities.ServerCapabilities(
            experimental=None,
            logging=capabilities.LoggingCapability(None),
            completions=capabilities.CompletionsCapability(None),
            prompts=capabilities.PromptsCapability(list_changed=False),
            resources=capabilities.ResourcesCapability(subscribe=True, list_changed=False),
            tools=capabilities.ToolsCapability(list_changed=False),
            sampling=None,
            elicitation=None,
        )
        info = "The MCP conformance suite's everything server, as a wasi-mcp backend."
        runtime.register_server(runtime.ServerInfo("everything-backend", "1.0.0", caps, info))
        runtime.register_tools(
            [
                runtime.ToolDefinition(
                    name,
                    None,
                    description,
                    json.dumps(JSON_SCHEMA_2020_12 if name == "json_schema_2020_12_tool" else NO_ARGUMENTS).encode(),
                    None,
                    None,
                )
                for name, description in TOOLS.items()
            ]
        )
        runtime.register_resources(
            [
                runtime.ResourceDefinition(
                    "test://static-text", "static-text", None, "A static text resource", "text/plain", None
                ),
                runtime.ResourceDefinition(
                    "test://static-binary", "static-binary", None, "A static binary resource", "image/png", None
                ),
                runtime.ResourceDefinition(WATCHED, "watched-resource", None, "A resource to subscribe to", None, None),
            ]
        )
        runtime.register_resource_templates(
            [
                runtime.ResourceTemplate(
                    "test://template/{id}/data", "template", None, "Data for an id", "application/json"
                )
            ]
        )
        runtime.register_prompts(
            [
                runtime.PromptDefinition("test_simple_prompt", None, "A prompt without arguments", None),
                runtime.PromptDefinition(
                    "test_prompt_with_arguments",
                    None,
                    "A prompt with two arguments",
                    [
                        runtime.PromptArgument("arg1", "First test argument", True),
                        runtime.PromptArgument("arg2", "Second test argument", True),
                    ],
                ),
                runtime.PromptDefinition(
                    "test_prompt_with_embedded_resource",
                    None,
                    "A prompt embedding a resource",
                    [runtime.PromptArgument("resourceUri", "URI of the resource to embed", True)],
                ),
                runtime.PromptDefinition("test_prompt_with_image", None, "A prompt with an image", None),
            ]
        )
        runtime.serve()


class Handlers(exports.Handlers):
    def call_tool(self, name: str, arguments: bytes) -> handlers.ToolResult:
        if name == "test_simple_text":
            return handlers.ToolResult([text("This is a simple text response for testing.")], None)
        if name == "test_image_content":
            return handlers.ToolResult([image()], None)
        if name == "test_embedded_resource":
            block = embedded("test://embedded-resource", "text/plain", "This is an embedded resource content.")
            return handlers.ToolResult([block], None)
        if name == "test_multiple_content_types":
            body = json.dumps({"test": "data", "value": 123}, separators=(",", ":"))
            blocks = [
                text("Multiple content types test:"),
                image(),
                embedded("test://mixed-content-resource", "application/json", body),
            ]
            return handlers.ToolResult(blocks, None)
        if name == "test_tool_with_logging":
            for step, message in enumerate(
                ("Tool execution started", "Tool processing data", "Tool execution completed")
            ):
                if step:
                    time.sleep(0.05)
                runtime.log(content.LogLevel.INFO, message, None)
            return handlers.ToolResult([text("Tool with logging executed successfully")], None)
        if name == "test_tool_with_progress":
            # "": the token of the request being handled (the host maps it, docs/wasi-mcp.md)
            for step, done in enumerate((0, 50, 100)):
                if step:
                    time.sleep(0.05)
                runtime.report_progress("", done, 100)
            return handlers.ToolResult([text("Tool with progress executed successfully")], None)
        if name == "test_error_handling":
            return handlers.ToolResult([text("This tool intentionally returns an error for testing")], True)
        if name == "json_schema_2020_12_tool":
            return handlers.ToolResult([text(f"Received: {arguments.decode()}")], None)
        raise error(types.ErrorCode.TOOL_NOT_FOUND, f"no tool {name}")

    def read_resource(self, uri: str) -> handlers.ResourceContents:
        if uri == "test://static-text":
            return handlers.ResourceContents([text(STATIC_TEXT)])
        if uri == "test://static-binary":
            return handlers.ResourceContents([embedded(uri, "image/png", blob=PNG)])
        if uri == WATCHED:
            return handlers.ResourceContents([text("Watched resource content.")])
        middle = uri.removeprefix("test://template/").removesuffix("/data")
        if uri.startswith("test://template/") and uri.endswith("/data") and middle and "/" not in middle:
            body = {"id": middle, "templateTest": True, "data": f"Data for ID: {middle}"}
            return handlers.ResourceContents([text(json.dumps(body, separators=(",", ":")))])
        raise error(types.ErrorCode.RESOURCE_NOT_FOUND, f"no resource {uri}")

    def get_prompt(self, name: str, arguments: bytes | None) -> handlers.PromptContents:
        args = json.loads(arguments) if arguments else {}
        if name == "test_simple_prompt":
            return handlers.PromptContents([user(text("This is a simple prompt for testing."))])
        if name == "test_prompt_with_arguments":
            if "arg1" not in args or "arg2" not in args:
                raise error(types.ErrorCode.INVALID_PARAMS, "arg1 and arg2 are required")
            message = f"Prompt with arguments: arg1='{args['arg1']}', arg2='{args['arg2']}'"
            return handlers.PromptContents([user(text(message))])
        if name == "test_prompt_with_embedded_resource":
            if "resourceUri" not in args:
                raise error(types.ErrorCode.INVALID_PARAMS, "resourceUri is required")
            resource = embedded(args["resourceUri"], "text/plain", "Embedded resource content for testing.")
            return handlers.PromptContents([user(resource), user(text("Please process the embedded resource above."))])
        if name == "test_prompt_with_image":
            return handlers.PromptContents([user(image()), user(text("Please analyze the image above."))])
        raise error(types.ErrorCode.PROMPT_NOT_FOUND, f"no prompt {name}")

    def handle_subscribe(self, uri: str) -> None:
        SUBSCRIBED.add(uri)

    def handle_unsubscribe(self, uri: str) -> None:
        SUBSCRIBED.discard(uri)

    def handle_complete(self, ref_type: handlers.CompletionRefType, ref_value: str) -> list[handlers.Completion]:
        return [handlers.Completion(value, None) for value in COMPLETIONS if value.startswith(ref_value)]

    def handle_elicit(self, message: str, fields: list[handlers.ElicitationField]) -> handlers.ElicitationResponse:
        raise error(types.ErrorCode.UNSUPPORTED_OPERATION, "no elicitation")
