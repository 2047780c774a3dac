"""Copying text where the user can paste it, and knowing whether it got there.

A system clipboard tool (pbcopy, wl-copy, xclip, xsel, clip.exe) says by its exit status whether
it took the text: only then is it "copied". Otherwise the text goes by OSC 52 alone, an escape
sequence the terminal may or may not honour and that nobody can confirm, so it is only "sent to
the terminal's clipboard".
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys

TOOL_TIMEOUT_S = 3.0


def clipboard_tools() -> list[list[str]]:
    """The clipboard tools that can reach the user's clipboard from here, most direct first."""
    tools: list[list[str]] = []
    if sys.platform == "darwin":
        tools.append(["pbcopy"])
    if os.environ.get("WAYLAND_DISPLAY"):
        tools.append(["wl-copy"])
    if os.environ.get("DISPLAY"):
        tools += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    tools.append(["clip.exe"])  # Windows, and WSL
    return [tool for tool in tools if shutil.which(tool[0])]


async def copy_with_a_tool(text: str) -> bool:
    """Hand `text` to the first clipboard tool that takes it; False when none did."""
    for tool in clipboard_tools():
        try:
            process = await asyncio.create_subprocess_exec(
                *tool, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL)
        except OSError:
            continue
        try:
            await asyncio.wait_for(process.communicate(text.encode("utf-8")), TOOL_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()
            continue
        if process.returncode == 0:
            return True
    return False
