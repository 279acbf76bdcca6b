// Renders /openapi.json as a page. Every piece of text goes in through
// textContent, never as HTML, so the description cannot inject markup.
"use strict";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

// Builds an element whose `backquoted` parts become <code>, as in the
// doc comments the description comes from.
function prose(tag, text) {
  const node = element(tag);
  String(text).split("`").forEach((part, index) => {
    if (part) node.appendChild(index % 2 === 1 ? element("code", part) : document.createTextNode(part));
  });
  return node;
}

// Follows a local "#/components/..." reference; other references are shown
// as they are.
function resolve(spec, item) {
  let current = item;
  for (let depth = 0; current && current.$ref && depth < 10; depth += 1) {
    const parts = current.$ref.replace(/^#\//, "").split("/");
    let target = spec;
    for (const part of parts) target = target ? target[part] : undefined;
    if (!target) return current;
    current = target;
  }
  return current || {};
}

function refName(item) {
  return item && item.$ref ? item.$ref.split("/").pop() : "";
}

function typeOf(schema) {
  if (!schema) return "";
  if (schema.$ref) return refName(schema);
  let type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type || "any";
  if (schema.format) type += " (" + schema.format + ")";
  if (schema.enum) type += ": " + schema.enum.join(", ");
  if (schema.pattern) type += " matching " + schema.pattern;
  return type;
}

function table(headings, rows) {
  const result = element("table");
  const head = result.createTHead().insertRow();
  for (const heading of headings) head.appendChild(element("th", heading));
  const body = result.createTBody();
  for (const row of rows) {
    const line = body.insertRow();
    for (const cell of row) line.appendChild(element("td", cell));
  }
  return result;
}

function schemaBlock(spec, schemaOrRef) {
  const schema = resolve(spec, schemaOrRef);
  const block = element("div");
  const name = refName(schemaOrRef);
  if (name) block.appendChild(element("p", "Schema " + name, "tag"));
  if (!schema.properties) {
    block.appendChild(element("p", typeOf(schema)));
    return block;
  }
  const required = new Set(schema.required || []);
  const rows = Object.entries(schema.properties).map(([field, property]) => {
    const resolved = resolve(spec, property);
    const example = resolved.example !== undefined ? JSON.stringify(resolved.example) : "";
    return [field, typeOf(property), required.has(field) ? "yes" : "no",
      resolved.description || "", example];
  });
  block.appendChild(table(["field", "type", "required", "description", "example"], rows));
  return block;
}

// Lists the media types of a body, once per schema: a request taken as
// JSON or as a form shows its fields once.
function contentBlocks(spec, content) {
  const groups = new Map();
  for (const [mediaType, media] of Object.entries(content || {})) {
    const key = JSON.stringify(media.schema || null);
    if (!groups.has(key)) groups.set(key, { schema: media.schema, types: [] });
    groups.get(key).types.push(mediaType);
  }
  const blocks = [];
  for (const group of groups.values()) {
    blocks.push(element("p", group.types.join(", "), "tag"));
    if (group.schema) blocks.push(schemaBlock(spec, group.schema));
  }
  return blocks;
}

function parametersBlock(spec, operation) {
  const rows = (operation.parameters || []).map((item) => {
    const parameter = resolve(spec, item);
    return [parameter.name, parameter.in, parameter.required ? "yes" : "no",
      typeOf(parameter.schema), parameter.description || ""];
  });
  return table(["name", "in", "required", "type", "description"], rows);
}

function responsesBlock(spec, operation) {
  const wrapper = element("div");
  for (const [status, item] of Object.entries(operation.responses || {})) {
    const response = resolve(spec, item);
    const details = element("details");
    details.open = status.startsWith("2");
    details.appendChild(prose("summary", status + " " + (response.description || "")));
    const headers = Object.entries(response.headers || {});
    if (headers.length > 0) {
      const rows = headers.map(([name, header]) => [name, header.description || ""]);
      details.appendChild(table(["header", "description"], rows));
    }
    for (const block of contentBlocks(spec, response.content)) details.appendChild(block);
    wrapper.appendChild(details);
  }
  return wrapper;
}

function operationSection(spec, path, method, operation, id) {
  const section = element("section", null, "operation");
  section.id = id;
  const heading = element("h2");
  heading.appendChild(element("span", method.toUpperCase(), "method " + method));
  heading.appendChild(element("span", path, "path"));
  section.appendChild(heading);
  if (operation.tags) section.appendChild(element("p", operation.tags.join(", "), "tag"));
  if (operation.summary) section.appendChild(prose("p", operation.summary));
  if (operation.description) section.appendChild(prose("p", operation.description));
  if (operation.security && operation.security.some((entry) => Object.keys(entry).length)) {
    section.appendChild(element("p", "Takes an access token: Authorization: Bearer TOKEN"));
  }
  if (operation.parameters && operation.parameters.length > 0) {
    section.appendChild(element("h3", "Parameters"));
    section.appendChild(parametersBlock(spec, operation));
  }
  if (operation.requestBody) {
    section.appendChild(element("h3", "Request body"));
    const body = resolve(spec, operation.requestBody);
    for (const block of contentBlocks(spec, body.content)) section.appendChild(block);
  }
  section.appendChild(element("h3", "Responses"));
  section.appendChild(responsesBlock(spec, operation));
  return section;
}

// Lists the operations grouped by tag, in the order the description
// declares its tags.
function operationsInOrder(spec) {
  const operations = [];
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of METHODS) {
      if (item[method]) operations.push({ path, method, operation: item[method] });
    }
  }
  const tags = (spec.tags || []).map((tag) => tag.name);
  const rank = (entry) => {
    const index = tags.indexOf((entry.operation.tags || [])[0]);
    return index === -1 ? tags.length : index;
  };
  return operations.sort((a, b) => rank(a) - rank(b));
}

function render(spec) {
  const info = spec.info || {};
  document.getElementById("title").textContent = (info.title || "API") + " " + (info.version || "");
  document.getElementById("summary").textContent = info.description || "";
  const main = document.getElementById("operations");
  main.replaceChildren();
  const list = element("ul");
  operationsInOrder(spec).forEach(({ path, method, operation }, index) => {
    const id = "operation-" + (index + 1);
    main.appendChild(operationSection(spec, path, method, operation, id));
    const link = element("a", method.toUpperCase() + " " + path);
    link.href = "#" + id;
    const entry = element("li");
    entry.appendChild(link);
    list.appendChild(entry);
  });
  document.getElementById("contents").replaceChildren(list);
}

async function load() {
  try {
    const response = await fetch("/openapi.json", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
  } catch (error) {
    const status = document.getElementById("status");
    status.textContent = "Could not load /openapi.json: " + error.message;
    status.className = "error";
  }
}

document.addEventListener("DOMContentLoaded", load);
