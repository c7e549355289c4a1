// A hand-rolled proxy request as scripts write it on Node without a proxy agent: plain HTTP
// to the proxy with the https:// URL as the request target. airlock opens the TLS, so this
// client needs neither CONNECT nor airlock's CA.
import http from "node:http";

const proxy = new URL(process.env.HTTPS_PROXY);
const body = JSON.stringify({ model: "m", max_tokens: 9, messages: [] });
const req = http.request({
  host: proxy.hostname, port: proxy.port, method: "POST",
  path: "https://api.anthropic.com/v1/messages",
  headers: { host: "api.anthropic.com", "x-api-key": process.env.PLACEHOLDER,
             "content-type": "application/json", "content-length": Buffer.byteLength(body) },
}, (res) => {
  let text = "";
  res.setEncoding("utf8");
  res.on("data", (d) => { text += d; });
  res.on("end", () => { console.log(res.statusCode, text); process.exit(res.statusCode === 200 ? 0 : 1); });
});
req.on("error", (e) => { console.error("request failed:", e); process.exit(1); });
req.end(body);
