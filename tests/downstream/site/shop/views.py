from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from django_toopher.decorators import toopher_required


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"hello {request.user.get_username()}")


@login_required
@toopher_required(action="Change email")
def change_email(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        request.user.email = request.POST["email"]
        request.user.save(update_fields=["email"])
        return HttpResponse(f"email is now {request.user.email}")
    return HttpResponse("change your email here")
