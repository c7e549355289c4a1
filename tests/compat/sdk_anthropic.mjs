// The Anthropic TypeScript SDK as an agent's script uses it: the key and the base URL come
// from the environment (ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, ANTHROPIC_BASE_URL), and
// the transport is Node's own fetch. One plain and one streamed message; prints both texts.
import { createRequire } from "node:module";

const require = createRequire(process.env.SDK_DIR + "/");
const Anthropic = require("@anthropic-ai/sdk").default;

const client = new Anthropic({ maxRetries: 0, timeout: 30_000 });
const params = { model: "claude-sonnet-4-5", max_tokens: 64,
                 messages: [{ role: "user", content: "Reply with pong" }] };
const message = await client.messages.create(params);
console.log("message:", message.content[0].text);
let streamed = "";
for await (const event of client.messages.stream(params)) {
  if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
    streamed += event.delta.text;
  }
}
console.log("stream:", streamed);
