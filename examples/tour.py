"""The seed tour: adjit's PyTorch-style tensors, step by step.

Run:  python examples/tour.py
"""
import adjit as ad

# y = 2 x.x and its gradient 4x
x = ad.arange(4.0).requires_grad_()
y = 2 * ad.dot(x, x)
print("x =", x)
print("y = 2 x.x =", y)
y.backward()
print("dy/dx =", x.grad, "(= 4x)")

# gradients accumulate into .grad until you zero them
(2 * ad.dot(x, x)).backward()
print("after a second backward, x.grad =", x.grad, "(accumulated: 8x)")
x.grad.zero_()
x.sum().backward()
print("after zero_() and x.sum().backward(), x.grad =", x.grad)

# a non-scalar output needs the vector to multiply the Jacobian with: `gradient`
x.grad = None
z = x * x
z.backward(gradient=ad.ones(4))
print("(x*x).backward(gradient=ones) gives", x.grad, "(= 2x)")

# detach: a value without history, treated as a constant
x.grad = None
u = (x * x).detach()
(u * x).sum().backward()
print("with u = (x*x).detach(), d/dx sum(u*x) =", x.grad, "(= u, not 3x^2)")


# control flow is ordinary Python: the gradient follows the path taken
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    return b if b.sum() > 0 else 100 * b


a = ad.tensor(0.3, requires_grad=True)
c = f(a)
c.backward()
print(f"control flow: f(0.3) = {c.item():g}, df/da = {a.grad.item():g} (= f(a)/a)")

# create_graph: differentiate the derivative (x**6 -> 6 x^5 -> 30 x^4)
w = ad.tensor(1.0, requires_grad=True)
(w ** 6).backward(create_graph=True)
print("d/dw w**6 at 1 =", w.grad.item(), "; the gradient has a graph:", w.grad.grad_fn.name())

# hooks see (and may replace) the gradient flowing through a tensor
seen = []
w.register_hook(lambda g: seen.append(g.item()))
w.grad.backward()
print("second derivative seen by the hook:", seen[0], "; w.grad now", w.grad.item(),
      "(6 + 30 accumulated)")
