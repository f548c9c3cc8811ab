-- Drives `hopcheck lsp` from Neovim's built-in client (0.7+), headless, on `src/routes/users.rs` of a
-- copy of the shop fixture, and writes what the editor saw to a JSON file for tests/lsp.rs.
--
-- Environment: HOPCHECK_BIN (the binary), HOPCHECK_RESULT (the JSON file to write). Neovim's working
-- directory is the project's root; the buffer is the file given on the command line.
--
-- Every wait is bounded: a step that times out raises an error, which is written to the result as
-- `error` (with whatever was gathered until then), and Neovim quits.

local WAIT_MS = 8000
local POLL_MS = 5

local out = { steps = {} }
local buf = vim.api.nvim_get_current_buf()
local uri = vim.uri_from_bufnr(buf)
local client_id

local function step(name)
  table.insert(out.steps, name)
end

-- Diagnostics as the editor holds them: 1-based lines and columns.
local function diagnostics()
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(list, {
      line = d.lnum + 1,
      col = d.col + 1,
      end_line = d.end_lnum + 1,
      end_col = d.end_col + 1,
      severity = d.severity,
      source = d.source or vim.NIL,
      code = d.code or vim.NIL,
      message = d.message,
    })
  end
  table.sort(list, function(a, b)
    if a.line ~= b.line then
      return a.line < b.line
    end
    return a.col < b.col
  end)
  return list
end

local function has(pred)
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if pred(d) then
      return true
    end
  end
  return false
end

local function wait_for(what, cond)
  if not vim.wait(WAIT_MS, cond, POLL_MS) then
    out.diagnostics_at_timeout = diagnostics()
    error("timed out after " .. WAIT_MS .. " ms waiting for " .. what)
  end
end

-- One request to the server; its result (an error answer or no answer raises).
local function request(method, params)
  local answers, err = vim.lsp.buf_request_sync(buf, method, params, WAIT_MS)
  if not answers then
    error(method .. ": no answer: " .. tostring(err))
  end
  local answer = answers[client_id]
  if not answer then
    error(method .. ": no answer from the server")
  end
  if answer.err then
    error(method .. ": " .. vim.inspect(answer.err))
  end
  return answer.result
end

-- Neovim 0.7 keeps only part of the LSP diagnostic in `user_data.lsp`: rebuild the whole of it.
local function to_lsp(d)
  local lsp = vim.deepcopy((d.user_data or {}).lsp or {})
  lsp.range = {
    start = { line = d.lnum, character = d.col },
    ["end"] = { line = d.end_lnum, character = d.end_col },
  }
  lsp.severity = d.severity
  lsp.message = d.message
  lsp.source = d.source
  lsp.code = d.code
  return lsp
end

local function find_line(pattern)
  for i, text in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if text:find(pattern, 1, true) then
      return i
    end
  end
  error("no line contains " .. pattern)
end

local function main()
  local exited = false
  client_id = vim.lsp.start_client({
    name = "hopcheck",
    cmd = { os.getenv("HOPCHECK_BIN"), "lsp" },
    root_dir = vim.fn.getcwd(),
    on_exit = function(code, signal)
      out.server_exit = { code = code, signal = signal }
      exited = true
    end,
  })
  if not client_id then
    error("the client did not start")
  end
  vim.lsp.buf_attach_client(buf, client_id)
  step("attached")

  -- 1. Diagnostics on open.
  wait_for("the first diagnostics", function()
    return #vim.diagnostic.get(buf) > 0
  end)
  out.diagnostics = diagnostics()
  step("diagnostics")

  local over
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == "over-budget" then
      over = d
    end
  end
  if not over then
    error("no over-budget diagnostic")
  end

  -- 2. Code lenses.
  out.lenses = {}
  for _, lens in ipairs(request("textDocument/codeLens", { textDocument = { uri = uri } }) or {}) do
    table.insert(out.lenses, { line = lens.range.start.line + 1, title = lens.command and lens.command.title or vim.NIL })
  end
  step("lenses")

  -- 3. Hover on the handler's `fn` line (at its name).
  local function hover(line, character)
    local result = request("textDocument/hover", {
      textDocument = { uri = uri },
      position = { line = line, character = character },
    })
    if result == nil or result == vim.NIL then
      return vim.NIL
    end
    return result.contents.value or vim.inspect(result.contents)
  end
  out.hover_handler = hover(over.lnum, over.col)
  step("hover")

  -- 4. Code actions for the over-budget finding.
  local actions = request("textDocument/codeAction", {
    textDocument = { uri = uri },
    range = { start = { line = over.lnum, character = over.col }, ["end"] = { line = over.end_lnum, character = over.end_col } },
    context = { diagnostics = { to_lsp(over) } },
  }) or {}
  out.actions = {}
  local allow
  for _, a in ipairs(actions) do
    local codes = {}
    for _, d in ipairs(a.diagnostics or {}) do
      table.insert(codes, d.code)
    end
    table.insert(out.actions, { title = a.title, kind = a.kind or vim.NIL, codes = codes })
    if a.title:find("^Allow `over%-budget` here") then
      allow = a
    end
  end
  step("actions")
  if not allow then
    error("no allow action among " .. vim.inspect(out.actions))
  end

  -- 5. Apply it, save (didSave), and wait until the finding is gone.
  vim.lsp.util.apply_workspace_edit(allow.edit, "utf-16")
  -- The action leaves a placeholder for the reason, which does not count as one: write a reason, as a
  -- user would, before saving.
  vim.cmd([[silent %s/<why this is fine>/the admin report is slow on purpose/]])
  vim.cmd("silent write")
  step("saved")
  wait_for("the over-budget finding to go", function()
    return not has(function(d)
      return d.code == "over-budget"
    end)
  end)
  out.diagnostics_after_allow = diagnostics()
  step("allowed")

  -- 6. Type a new sequential query into the handler (didChange), and time how long until the
  -- diagnostics count it.
  local after = find_line("let orders = db::orders_for(")
  local typed =
    '    let _count: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&state.db).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;'
  local started = vim.loop.hrtime()
  vim.api.nvim_buf_set_lines(buf, after, after, false, { typed })
  wait_for("the diagnostics to count 4 sequential round trips", function()
    return has(function(d)
      return d.message:find("4 sequential round trips", 1, true) ~= nil
    end)
  end)
  out.edit_to_diagnostics_ms = (vim.loop.hrtime() - started) / 1e6
  out.diagnostics_after_edit = diagnostics()
  step("edited")
  -- The new line is a round trip: its hover tells where it goes.
  out.hover_trip = hover(after, typed:find("fetch_one", 1, true))
  step("hover on the new round trip")

  -- 7. Shutdown and exit.
  vim.lsp.stop_client(client_id)
  if not vim.wait(WAIT_MS, function()
    return exited
  end, POLL_MS) then
    error("the server did not exit after shutdown")
  end
  step("stopped")
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  out.error = err
end
local file = io.open(os.getenv("HOPCHECK_RESULT"), "w")
file:write(vim.fn.json_encode(out))
file:close()
vim.cmd("qa!")
