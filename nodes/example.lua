-- nodes/example.lua: a node module. A module returns the node function;
-- graphs pick it up with g:node("b", require("nodes.example")).
return function(state, ctx)
  ctx.log.info("example node ran", { count = state.count, step = ctx.step })
  return { log = { "b" }, facts = { last_example_step = ctx.step } }
end
