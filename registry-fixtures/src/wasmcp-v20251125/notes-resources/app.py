"""mcpkg's own resources capability (fixture): two static text notes, `notes://mcpkg/readme`
(Markdown) and `notes://mcpkg/contract` (plain text), and one resource template,
`notes://mcpkg/shout/{word}`, whose reads answer the word in capitals."""

from __future__ import annotations

from urllib.parse import unquote

from wit_world import exports
from wit_world.imports import mcp, server_handler

NOTES = {  # uri -> (name, title, mime type, text)
    "notes://mcpkg/readme": (
        "readme",
        "About these notes",
        "text/markdown",
        "# Notes\n\nServed by a resources capability behind wasmcp's resources-middleware.\n",
    ),
    "notes://mcpkg/contract": ("contract", "The contract", "text/plain", "wasmcp:mcp-v20251125@0.1.1"),
}
SHOUT = "notes://mcpkg/shout/"


def note(uri: str, name: str, title: str, mime_type: str, text: str) -> mcp.McpResource:
    options = mcp.ResourceOptions(
        size=len(text.encode()),
        title=title,
        description=f"The note {name}",
        mime_type=mime_type,
        annotations=None,
        meta=None,
        icons=None,
    )
    return mcp.McpResource(uri=uri, name=name, options=options)


def contents(uri: str, mime_type: str, text: str) -> mcp.ReadResourceResult:
    options = mcp.EmbeddedResourceOptions(mime_type=mime_type, meta=None)
    body = mcp.ResourceContents_Text(mcp.TextResourceContents(uri=uri, text=mcp.TextData_Text(text), options=options))
    return mcp.ReadResourceResult(meta=None, contents=[body])


class Resources(exports.Resources):
    def list_resources(
        self, ctx: server_handler.MessageContext, request: mcp.ListResourcesRequest
    ) -> mcp.ListResourcesResult:
        return mcp.ListResourcesResult(
            meta=None, next_cursor=None, resources=[note(uri, *entry) for uri, entry in NOTES.items()]
        )

    def read_resource(
        self, ctx: server_handler.MessageContext, request: mcp.ReadResourceRequest
    ) -> mcp.ReadResourceResult | None:
        if request.uri in NOTES:
            _, _, mime_type, text = NOTES[request.uri]
            return contents(request.uri, mime_type, text)
        if request.uri.startswith(SHOUT) and len(request.uri) > len(SHOUT):
            return contents(request.uri, "text/plain", unquote(request.uri[len(SHOUT) :]).upper())
        return None

    def list_resource_templates(
        self, ctx: server_handler.MessageContext, request: mcp.ListResourceTemplatesRequest
    ) -> mcp.ListResourceTemplatesResult:
        options = mcp.ResourceTemplateOptions(
            description="The word, in capitals",
            title="Shout",
            mime_type="text/plain",
            annotations=None,
            meta=None,
            icons=None,
        )
        template = mcp.ResourceTemplate(uri_template=SHOUT + "{word}", name="shout", options=options)
        return mcp.ListResourceTemplatesResult(meta=None, next_cursor=None, resource_templates=[template])
