// The OpenAI TypeScript SDK as an agent's script uses it: OPENAI_API_KEY and OPENAI_BASE_URL
// from the environment, Node's own fetch. A Responses API call, streamed and plain, and a
// chat completion; prints each text.
import { createRequire } from "node:module";

const require = createRequire(process.env.SDK_DIR + "/");
const OpenAI = require("openai").default;

const client = new OpenAI({ maxRetries: 0, timeout: 30_000 });
const response = await client.responses.create({ model: "gpt-5", input: "Reply with pong" });
console.log("response:", response.output[0].content[0].text);
let streamed = "";
const stream = await client.responses.create({ model: "gpt-5", input: "Reply with pong",
                                               stream: true });
for await (const event of stream) {
  if (event.type === "response.output_text.delta") streamed += event.delta;
}
console.log("stream:", streamed);
const chat = await client.chat.completions.create({
  model: "gpt-5", messages: [{ role: "user", content: "Reply with pong" }] });
console.log("chat:", chat.choices[0].message.content);
