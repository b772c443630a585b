"""The role for other agent runtimes: a Claude Code subagent file and a CrewAI agent YAML.

Both are made from the role file alone, deterministically, so the golden files under
``tests/golden/`` pin them. The system prompt tells the agent to ask the seat (``saleslead``
commands or its MCP server) for numbers instead of inventing them, and to hand off across boundaries.
"""

from __future__ import annotations

from typing import Literal

import yaml

from saleslead.role.schema import RoleDefinition

__all__ = ["ExportFormat", "claude_subagent", "crewai_agent", "export_role", "system_prompt"]

ExportFormat = Literal["claude", "crewai"]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def system_prompt(role: RoleDefinition) -> str:
    """The persona and lanes as instructions for an agent playing the seat."""
    lines = [
        f"You are the {role.title} seat ({role.role_class}, domain {role.domain}) of an agent fleet.",
        _one_line(role.summary),
        "",
        "Voice: " + _one_line(role.persona.voice),
        "",
        "You decide:",
    ]
    for item in role.mandate:
        lines.append(f"- {item.title} ({item.id}): {_one_line(item.summary)}")
    lines += ["", "You hand over, never do yourself:"]
    for b in role.boundaries:
        lines.append(f"- {_one_line(b.excludes).rstrip('.')} → {b.owner} ({b.relation}); send {b.payload}.")
    lines += ["", "Hold to these:"]
    lines += [f"- {v}" for v in role.persona.values]
    lines += [f"- Never: {n[0].lower()}{n[1:]}" for n in role.persona.never]
    lines += [
        "",
        "Get every number from the seat — `saleslead ask`, `saleslead run --as-of DATE`, or the `saleslead mcp` "
        "tools — and quote its range and sample. When a request crosses a boundary, return the handoff the "
        "seat issues instead of doing the work.",
    ]
    return "\n".join(lines) + "\n"


def _description(role: RoleDefinition) -> str:
    topics = ", ".join(item.title.lower() for item in role.mandate)
    return (
        f"Use for the revenue number and the shape of the pipeline: {topics}. "
        "Hands single deals, prospecting and reconciliation to the books to the roles that own them."
    )


def claude_subagent(role: RoleDefinition) -> str:
    """A Claude Code subagent file (``.claude/agents/<id>.md``): YAML front matter, then the system prompt."""
    front = yaml.safe_dump(
        {"name": role.id, "description": _description(role), "tools": "Bash, Read"},
        sort_keys=False,
        allow_unicode=True,
        width=1000,
    )
    return f"---\n{front}---\n\n{system_prompt(role)}"


def crewai_agent(role: RoleDefinition) -> str:
    """A CrewAI ``agents.yaml`` entry: role, goal, backstory."""
    goal = (
        "Keep the revenue number honest for the whole engagement: "
        + "; ".join(f"{item.title.lower()}" for item in role.mandate)
        + ". Hand everything else to the role that owns it."
    )
    backstory = _one_line(role.persona.voice) + " " + " ".join(role.persona.values)
    agent = {
        role.id.replace("-", "_"): {
            "role": role.title,
            "goal": goal,
            "backstory": backstory,
            "allow_delegation": False,
            "memory": role.persistent_persona,
        }
    }
    return yaml.safe_dump(agent, sort_keys=False, allow_unicode=True, width=100)


def export_role(role: RoleDefinition, fmt: ExportFormat) -> str:
    return claude_subagent(role) if fmt == "claude" else crewai_agent(role)
