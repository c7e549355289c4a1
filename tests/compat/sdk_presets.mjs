// The official SDK of each remaining preset, one call each, as an agent's script makes it:
// the key is the placeholder, the transport Node's fetch through the proxy
// (NODE_USE_ENV_PROXY=1 from proxy.env on Node 24). argv[2] names the preset. Prints what
// the stand-in answered.
import { createRequire } from "node:module";

const require = createRequire(process.env.SDK_DIR + "/");
const key = process.env.PLACEHOLDER;
const messages = [{ role: "user", content: "Reply with pong" }];

const calls = {
  async mistral() {
    const { Mistral } = require("@mistralai/mistralai");
    const r = await new Mistral({ apiKey: key }).chat.complete({ model: "mistral-small-latest", messages });
    return r.choices[0].message.content;
  },
  async groq() {
    const Groq = require("groq-sdk").default;
    const r = await new Groq({ apiKey: key, maxRetries: 0 }).chat.completions.create({ model: "llama-3.3-70b-versatile", messages });
    return r.choices[0].message.content;
  },
  async openrouter() {
    const OpenAI = require("openai").default;
    const client = new OpenAI({ apiKey: key, baseURL: "https://openrouter.ai/api/v1", maxRetries: 0 });
    const r = await client.chat.completions.create({ model: "openai/gpt-5", messages });
    return r.choices[0].message.content;
  },
  async huggingface() {
    const { whoAmI } = require("@huggingface/hub");
    return (await whoAmI({ accessToken: "hf_" + key })).name;
  },
  async github() {
    const { Octokit } = await import(require.resolve("@octokit/rest"));
    return (await new Octokit({ auth: key }).rest.users.getAuthenticated()).data.login;
  },
  async gitlab() {
    const { Gitlab } = require("@gitbeaker/rest");
    return (await new Gitlab({ token: key }).Users.showCurrentUser()).username;
  },
};

console.log(await calls[process.argv[2]]());
