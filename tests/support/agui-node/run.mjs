// Drives `desktop-agent serve`'s POST /agui with the official TypeScript client
// (@ag-ui/client HttpAgent, unchanged) and prints one JSON summary on stdout.
// Usage: node run.mjs URL TOKEN
import { HttpAgent } from "@ag-ui/client";

const [url, token] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${token}` };

function agent(threadId) {
  return new HttpAgent({ url, headers, threadId });
}

async function run(a, params = {}) {
  const events = [];
  let failure = null;
  try {
    await a.runAgent(params, {
      onEvent: ({ event }) => {
        events.push(event);
      },
    });
  } catch (error) {
    failure = String(error && error.message ? error.message : error);
  }
  return { events, failure };
}

const say = (a, text) =>
  a.addMessage({ id: `u-${Math.random().toString(36).slice(2)}`, role: "user", content: text });

const out = {};

// 1. text
let a = agent("node-text");
say(a, "hi");
out.text = await run(a);
out.text.messages = a.messages;

// 2. a tool the server runs
a = agent("node-tools");
say(a, "add");
out.tools = await run(a);

// 3. a frontend tool: the run ends, the client runs it and continues
const weather = {
  name: "get_weather",
  description: "The weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
a = agent("node-frontend");
say(a, "weather?");
out.frontend1 = await run(a, { tools: [weather] });
const call = a.messages.flatMap((m) => m.toolCalls || [])[0];
out.frontendCall = call || null;
if (call) {
  a.addMessage({ id: "tool-result-1", role: "tool", toolCallId: call.id, content: "sunny, 21 C" });
}
out.frontend2 = await run(a, { tools: [weather] });

// 4. approval: an interrupt, resolved by the next run
a = agent("node-approval");
say(a, "deploy");
out.approval1 = await run(a);
const finished = out.approval1.events.find((e) => e.type === "RUN_FINISHED");
const interrupt = finished && finished.outcome && finished.outcome.interrupts
  ? finished.outcome.interrupts[0]
  : null;
out.interrupt = interrupt;
if (interrupt) {
  out.approval2 = await run(a, {
    resume: [{ interruptId: interrupt.id, status: "resolved", payload: { decision: "allow" } }],
  });
}

// 5. a failing run
a = agent("node-error");
say(a, "fail");
out.error = await run(a);

process.stdout.write(JSON.stringify(out));
